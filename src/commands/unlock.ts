
import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import { type LockStatus, unhold } from '../run/hold.js'
import { formatUnlock } from '../ui/results.js'

export default class Unlock extends BerthCommand {
  static override description = 'Release a hold taken with `berth lock ENV -m …` (or a stale lock); never the lock of a running deploy'

  static override examples = ['<%= config.bin %> unlock production']

  static override args = { env: envArg }

  async run(): Promise<LockStatus & { released?: string }> {
    const { args, flags } = await this.parse(Unlock)
    const config = await this.loadConfig(flags.config)
    const result = await unhold(config, args.env, await this.deps(config, args.env))
    this.log(formatUnlock(result))
    return result
  }
}
