import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import { hold, type LockStatus, lockStatus } from '../run/hold.js'
import { formatLock } from '../ui/results.js'

export default class Lock extends BerthCommand {
  static override description = "Show ENV's lock, or hold it by hand with a message (a deploy freeze) until `berth unlock ENV`"

  static override examples = ['<%= config.bin %> lock production', '<%= config.bin %> lock production -m "freeze: black friday"']

  static override args = { env: envArg }

  static override flags = {
    message: Flags.string({ char: 'm', description: 'take a manual hold with this reason' }),
  }

  async run(): Promise<LockStatus> {
    const { args, flags } = await this.parse(Lock)
    const config = await this.loadConfig(flags.config)
    const status = flags.message === undefined ? await lockStatus(config, args.env, await this.deps(config, args.env)) : await hold(config, args.env, flags.message, this.commandLine(), await this.deps(config, args.env))
    this.log(formatLock(status))
    return status
  }
}
