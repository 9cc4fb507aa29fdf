import { Args, Flags } from '@oclif/core'

import { BerthCommand } from '../cli/baseCommand.js'
import { down, type DownResult } from '../run/down.js'

export default class Down extends BerthCommand {
  static override description = "Stop and remove ENV's containers and network (and its volumes with --volumes); other environments are untouched"

  static override examples = ['<%= config.bin %> down preview-42 --volumes', '<%= config.bin %> down production --yes']

  static override args = { env: Args.string({ description: 'environment name', required: true }) }

  static override flags = {
    volumes: Flags.boolean({ description: "also delete the environment's named volumes (its data)" }),
    yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation (needed without a TTY for confirm: true environments)' }),
  }

  async run(): Promise<DownResult> {
    const { args, flags } = await this.parse(Down)
    const config = await this.loadConfig(flags.config)
    const result = await down({ config, envName: args.env, volumes: flags.volumes, confirm: this.confirmer(flags.yes), command: this.commandLine() }, this.deps(config))
    const removed = `${result.containers.length} container${result.containers.length === 1 ? '' : 's'} removed`
    this.log(`${result.environment} (${result.project}) is down: ${removed}, volumes ${result.volumes ? 'deleted' : 'kept'} (${(result.durationMs / 1000).toFixed(1)}s)`)
    if (result.release) this.log(`to bring it back: berth rollback ${result.environment} --to ${result.release}`)
    return result
  }
}
