import { BerthCommand } from '../cli/baseCommand.js'
import { doctor, type DoctorReport } from '../doctor/doctor.js'
import { formatDoctor } from '../ui/format.js'

export default class Doctor extends BerthCommand {
  static override description = `Check the host: engine, Compose v2, restart policies, hand-started containers, drift, port clashes, env-file permissions, stale locks, damaged state files, disk

Each check is ok, warn or fail, with a hint. Exit 0 when no check fails (warnings included), 1 when one fails, 6 when the Docker engine or Compose v2 is unavailable.

Every engine deploy.yml uses (SPEC §10: host:, context:) is checked on its own, for the environments that run there; the findings of one that is not the shell's engine name it ("on ssh://deploy@10.0.0.5: …"). A host that cannot be reached (sshd down, the login refused) is one failed finding with the reason; the other engines are still checked and shown, and the exit code is 6, as for status.`

  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor)
    const config = await this.loadConfig(flags.config)
    const report = await doctor(config, await this.deps(config))
    this.log(formatDoctor(report))
    process.exitCode = report.exitCode
    return report
  }
}
