import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import { logs, type LogsResult } from '../run/logs.js'

export default class Logs extends BerthCommand {
  static override description = "Show ENV's logs (one SERVICE's with the argument), secret values masked"

  static override examples = ['<%= config.bin %> logs production --tail 100', '<%= config.bin %> logs staging web -f']

  static override args = {
    env: envArg,
    service: Args.string({ description: 'only this compose service', ignoreStdin: true }),
  }

  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep printing new lines until interrupted', exclusive: ['json'] }),
    tail: Flags.integer({ char: 'n', min: 0, description: 'only the last N lines of each container' }),
  }

  async run(): Promise<LogsResult & { lines?: string[] }> {
    const { args, flags } = await this.parse(Logs)
    const config = await this.loadConfig(flags.config)
    const request = { config, envName: args.env, ...(args.service ? { service: args.service } : {}), follow: flags.follow, ...(flags.tail !== undefined ? { tail: flags.tail } : {}) }
    const stderr = (line: string) => process.stderr.write(`${line}\n`)
    if (!this.jsonEnabled()) return logs(request, await this.deps(config, args.env), { stdout: (line) => process.stdout.write(`${line}\n`), stderr })
    const lines: string[] = []
    const result = await logs(request, await this.deps(config, args.env), { stdout: (line) => lines.push(line), stderr })
    return { ...result, lines }
  }
}
