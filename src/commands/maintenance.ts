import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import { maintenance, type MaintenanceResult } from '../run/maintenance.js'
import { formatMaintenance } from '../ui/results.js'

export default class Maintenance extends BerthCommand {
  static override description = `Turn ENV's maintenance page on or off (blue-green): while on, its routes answer 503 with the page and Retry-After

The switch is a file beside the environment's live marker, so no other environment's route is touched and the edge does not reload (routes written by an earlier berth are rewritten once, said on screen). Deploys meanwhile go live behind the page. Audited; shown by berth status.`

  static override examples = ['<%= config.bin %> maintenance production on --message "Back at 14:00 UTC"', '<%= config.bin %> maintenance production off']

  static override args = {
    env: envArg,
    switch: Args.string({ description: 'on: answer with the page; off: serve again', options: ['on', 'off'], required: true, ignoreStdin: true }),
  }

  static override flags = {
    message: Flags.string({ char: 'm', description: 'the text of the page (with on; newlines kept)' }),
  }

  async run(): Promise<MaintenanceResult> {
    const { args, flags } = await this.parse(Maintenance)
    const config = await this.loadConfig(flags.config)
    const request = { config, envName: args.env, on: args.switch === 'on', ...(flags.message !== undefined ? { message: flags.message } : {}), command: this.commandLine() }
    const result = await maintenance(request, await this.deps(config, args.env))
    this.log(formatMaintenance(result))
    return result
  }
}
