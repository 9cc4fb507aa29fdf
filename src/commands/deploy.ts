import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { parseDuration } from '../config/duration.js'
import { UsageError } from '../errors.js'
import { envArg, yesFlag } from '../cli/shared.js'
import { deploy, type DeployResult } from '../run/deploy.js'
import { formatDeployed } from '../ui/results.js'

export default class Deploy extends BerthCommand {
  static override description = 'Build (or promote with --tag) a release of ENV, apply it, wait until healthy; roll back automatically if it is not'

  static override examples = ['<%= config.bin %> deploy staging', '<%= config.bin %> deploy production --tag 20261122-093000 --yes']

  static override args = { env: envArg }

  static override flags = {
    tag: Flags.string({ char: 't', description: 'deploy the images of an existing release instead of building' }),
    watch: Flags.string({
      description: 'blue-green: after the switch, watch the new colour for this long (e.g. 2m, 30s; 0s: not at all) instead of the environment\'s watch:, switching back by itself on a failure (exit 3)',
    }),
    yes: yesFlag,
  }

  async run(): Promise<DeployResult> {
    const { args, flags } = await this.parse(Deploy)
    const config = await this.loadConfig(flags.config)
    const watchMs = flags.watch === undefined ? undefined : parseDuration(flags.watch)
    if (watchMs === undefined && flags.watch !== undefined) {
      throw new UsageError(`--watch ${flags.watch} is not a duration`, 'Give it like 2m, 30s, 1m30s or 0s', 'USAGE')
    }
    const result = await deploy(
      { config, envName: args.env, ...(flags.tag ? { tag: flags.tag } : {}), ...(watchMs !== undefined ? { watchMs } : {}), confirm: this.confirmer(flags.yes), command: this.commandLine() },
      await this.deps(config, args.env),
    )
    this.log(formatDeployed(result))
    return result
  }
}
