import { resolve } from 'node:path'

import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { init, type InitResult } from '../config/init.js'
import { formatInit } from '../ui/results.js'

export default class Init extends BerthCommand {
  static override description = 'Write a starting deploy.yml, environments/*.env.example and .gitignore entries; never overwrites a file without --force'

  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --app shop']

  static override flags = {
    app: Flags.string({ description: 'application name (default: from the directory name)' }),
    force: Flags.boolean({ description: 'overwrite an existing deploy.yml and env file examples' }),
  }

  async run(): Promise<InitResult> {
    const { flags } = await this.parse(Init)
    const result = await init({ configFile: resolve(process.cwd(), flags.config ?? 'deploy.yml'), ...(flags.app ? { app: flags.app } : {}), force: flags.force })
    this.log(formatInit(result))
    return result
  }
}
