import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg, yesFlag } from '../cli/shared.js'
import { down, type DownResult } from '../run/down.js'
import { formatDown } from '../ui/results.js'

export default class Down extends BerthCommand {
  static override description = "Stop and remove ENV's containers and network (and its volumes with --volumes); other environments are untouched"

  static override examples = ['<%= config.bin %> down preview-42 --volumes', '<%= config.bin %> down production --yes']

  static override args = { env: envArg }

  static override flags = {
    volumes: Flags.boolean({ description: "also delete the environment's named volumes (its data)" }),
    yes: yesFlag,
  }

  async run(): Promise<DownResult> {
    const { args, flags } = await this.parse(Down)
    const config = await this.loadConfig(flags.config)
    const result = await down({ config, envName: args.env, volumes: flags.volumes, confirm: this.confirmer(flags.yes), command: this.commandLine() }, await this.deps(config, args.env))
    this.log(formatDown(result))
    return result
  }
}
