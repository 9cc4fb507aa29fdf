import { Args, Flags } from '@oclif/core'

import { BerthCommand } from '../cli/baseCommand.js'
import { rollback, type RollbackResult } from '../run/rollback.js'

export default class Rollback extends BerthCommand {
  static override description = 'Re-apply a kept release of ENV, images and config together (default: the previous release)'

  static override examples = ['<%= config.bin %> rollback production', '<%= config.bin %> rollback production --to 20261121-170512 --yes']

  static override args = { env: Args.string({ description: 'environment name', required: true }) }

  static override flags = {
    to: Flags.string({ description: 'release tag to return to (see: berth releases ENV)' }),
    'images-only': Flags.boolean({ description: "apply the current compose config and env file with the release's images" }),
    yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation (needed without a TTY for confirm: true environments)' }),
  }

  async run(): Promise<RollbackResult> {
    const { args, flags } = await this.parse(Rollback)
    const config = await this.loadConfig(flags.config)
    const result = await rollback(
      { config, envName: args.env, ...(flags.to ? { to: flags.to } : {}), imagesOnly: flags['images-only'], confirm: this.confirmer(flags.yes), command: this.commandLine() },
      this.deps(config),
    )
    this.log(`${result.environment} is running release ${result.tag} (${(result.durationMs / 1000).toFixed(1)}s)`)
    if (result.from) this.log(`to undo: berth rollback ${result.environment} --to ${result.from}`)
    return result
  }
}
