import { Args } from '@oclif/core'

import { BerthCommand } from '../baseCommand.js'
import { selectEnvironment } from '../config/load.js'
import { readReleases, type ReleaseRecord } from '../deploy/releaseStore.js'
import { formatReleases } from '../ui/format.js'

export default class Releases extends BerthCommand {
  static override description = 'List the release history of ENV, newest first, marking the active and previous releases'

  static override examples = ['<%= config.bin %> releases production', '<%= config.bin %> releases staging --json']

  static override args = { env: Args.string({ description: 'environment name', required: true }) }

  async run(): Promise<{ environment: string; releases: ReleaseRecord[] }> {
    const { args, flags } = await this.parse(Releases)
    const config = await this.loadConfig(flags.config)
    const env = selectEnvironment(config, args.env)
    const releases = await readReleases(config.stateDir, env.name)
    this.log(formatReleases(env.name, releases))
    return { environment: env.name, releases }
  }
}
