import { resolve } from 'node:path'

import { Flags } from '@oclif/core'

import { BerthCommand } from '../cli/baseCommand.js'
import { init, type InitResult } from '../config/init.js'

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
    for (const file of result.written) this.log(`wrote ${file}`)
    if (result.gitignore.added.length) this.log(`added to ${result.gitignore.file}: ${result.gitignore.added.join(' ')}`)
    if (!result.compose.exists) this.log(`note: ${result.compose.file} does not exist yet; write it, or name your compose files under compose: in deploy.yml`)
    this.log('next: cp environments/staging.env.example environments/staging.env, fill it in, then: berth deploy staging')
    return result
  }
}
