import { Args } from '@oclif/core'

import { BerthCommand } from '../cli/baseCommand.js'
import { type LockStatus, unhold } from '../run/hold.js'

export default class Unlock extends BerthCommand {
  static override description = 'Release a hold taken with `berth lock ENV -m …` (or a stale lock); never the lock of a running deploy'

  static override examples = ['<%= config.bin %> unlock production']

  static override args = { env: Args.string({ description: 'environment name', required: true }) }

  async run(): Promise<LockStatus & { released?: string }> {
    const { args, flags } = await this.parse(Unlock)
    const config = await this.loadConfig(flags.config)
    const result = await unhold(config, args.env, this.deps(config))
    this.log(result.released ? `${result.environment} unlocked (was held by ${result.released})` : `${result.environment} was not locked`)
    return result
  }
}
