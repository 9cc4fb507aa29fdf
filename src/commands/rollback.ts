import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg, yesFlag } from '../cli/shared.js'
import { rollback, type RollbackResult } from '../run/rollback.js'
import { formatRolledBack } from '../ui/results.js'

export default class Rollback extends BerthCommand {
  static override description = 'Re-apply a kept release of ENV, images and config together (default: the previous release)'

  static override examples = ['<%= config.bin %> rollback production', '<%= config.bin %> rollback production --to 20261121-170512 --yes']

  static override args = { env: envArg }

  static override flags = {
    to: Flags.string({ description: 'release tag to return to (see: berth releases ENV)' }),
    'images-only': Flags.boolean({ description: "apply the current compose config and env file with the release's images" }),
    yes: yesFlag,
  }

  async run(): Promise<RollbackResult> {
    const { args, flags } = await this.parse(Rollback)
    const config = await this.loadConfig(flags.config)
    const result = await rollback(
      { config, envName: args.env, ...(flags.to ? { to: flags.to } : {}), imagesOnly: flags['images-only'], confirm: this.confirmer(flags.yes), command: this.commandLine() },
      await this.deps(config, args.env),
    )
    this.log(formatRolledBack(result))
    return result
  }
}
