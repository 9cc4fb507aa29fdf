import { Flags } from '@oclif/core'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg, yesFlag } from '../cli/shared.js'
import { deploy, type DeployResult } from '../run/deploy.js'
import { formatDeployed } from '../ui/results.js'

export default class Deploy extends BerthCommand {
  static override description = 'Build (or promote with --tag) a release of ENV, apply it, wait until healthy; roll back automatically if it is not'

  static override examples = ['<%= config.bin %> deploy staging', '<%= config.bin %> deploy production --tag 20261122-093000 --yes']

  static override args = { env: envArg }

  static override flags = {
    tag: Flags.string({ char: 't', description: 'deploy the images of an existing release instead of building' }),
    yes: yesFlag,
  }

  async run(): Promise<DeployResult> {
    const { args, flags } = await this.parse(Deploy)
    const config = await this.loadConfig(flags.config)
    const result = await deploy(
      { config, envName: args.env, ...(flags.tag ? { tag: flags.tag } : {}), confirm: this.confirmer(flags.yes), command: this.commandLine() },
      await this.deps(config, args.env),
    )
    this.log(formatDeployed(result))
    return result
  }
}
