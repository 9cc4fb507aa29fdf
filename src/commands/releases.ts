
import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import { releaseHistory, type ReleaseHistory } from '../inspect/status.js'
import { ExitCode } from '../errors.js'
import { formatReleases } from '../ui/format.js'

export default class Releases extends BerthCommand {
  static override description = `List the release history of ENV, newest first, marking the active and previous releases

When ENV's release records are damaged, says what is wrong and the command that fixes it, lists the history the last good copy holds, and exits 2.`

  static override examples = ['<%= config.bin %> releases production', '<%= config.bin %> releases staging --json']

  static override args = { env: envArg }

  async run(): Promise<ReleaseHistory> {
    const { args, flags } = await this.parse(Releases)
    const config = await this.loadConfig(flags.config)
    const history = await releaseHistory(config, args.env, await this.deps(config, args.env))
    this.log(formatReleases(history))
    if (history.damaged) process.exitCode = ExitCode.usage
    return history
  }
}
