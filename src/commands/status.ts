import { Args } from '@oclif/core'

import { BerthCommand } from '../baseCommand.js'
import { status, type StatusReport } from '../deploy/status.js'
import { formatStatus } from '../ui/format.js'

export default class Status extends BerthCommand {
  static override description = 'Show each environment: its release, since when, and its services with state, health and ports'

  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status production --json']

  static override args = { env: Args.string({ description: 'only this environment' }) }

  async run(): Promise<StatusReport> {
    const { args, flags } = await this.parse(Status)
    const config = await this.loadConfig(flags.config)
    const report = await status(config, args.env, this.deps())
    this.log(formatStatus(report))
    return report
  }
}
