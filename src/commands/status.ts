import * as Args from '@oclif/core/args'

import { BerthCommand } from '../cli/baseCommand.js'
import { status, type StatusReport } from '../inspect/status.js'
import { ExitCode } from '../errors.js'
import { formatStatus } from '../ui/format.js'

export default class Status extends BerthCommand {
  static override description = `Show each environment: its release, since when, its services with state, health and ports, and its drift from the active release record

Drift: containers whose image or compose config hash differ from the active release, containers created in the environment's project without berth, and services with no container. Below the environments, containers that look like the app's (name or image) but belong to none of its environments — started by hand — with the command that brings each back under berth.

An environment whose state files (release records, colour state) are damaged is marked, with what is wrong and the command that fixes it; the others are shown as usual, and the exit code stays 0.

Each environment names its engine (the local one, or its host: / context:). One whose engine cannot be reached (the host down, the SSH login refused) is marked UNREACHABLE with the reason, the others are shown as usual, and the exit code is 6.`

  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status production --json']

  static override args = { env: Args.string({ description: 'only this environment', ignoreStdin: true }) }

  async run(): Promise<StatusReport> {
    const { args, flags } = await this.parse(Status)
    const config = await this.loadConfig(flags.config)
    const report = await status(config, args.env, await this.deps(config, args.env))
    this.log(formatStatus(report))
    // SPEC §10: the reachable environments are shown, and a script still learns that one was not.
    if (report.unreachable) process.exitCode = ExitCode.engineUnavailable
    return report
  }
}
