import { BerthCommand } from '../cli/baseCommand.js'
import { doctor, type DoctorReport } from '../doctor/doctor.js'
import { formatDoctor } from '../ui/format.js'

export default class Doctor extends BerthCommand {
  static override description = `Check the host: engine, Compose v2, restart policies, hand-started containers, drift, port clashes, env-file permissions, stale locks, damaged state files, disk

Each check is ok, warn or fail, with a hint. Exit 0 when no check fails (warnings included), 1 when one fails, 6 when the Docker engine or Compose v2 is unavailable.`

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
