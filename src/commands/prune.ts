import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { prune, type PruneResult } from '../run/prune.js'
import { formatPruned } from '../ui/results.js'

export default class Prune extends BerthCommand {
  static override description = `Take down every expired preview environment: its containers, networks, volumes, edge routes, records and env file

A preview (an environment made from a pattern like preview-*, SPEC §11) expires its pattern's ttl after its last deploy. Each is taken down under its own lock, as berth down --volumes would, and then forgotten: its state directory and env file are removed. Nothing else is touched: not a literal environment, not a preview deployed again since. A preview locked by another run is skipped and reported; the next prune tries it again.`

  static override examples = ['<%= config.bin %> prune --expired --dry-run', '<%= config.bin %> prune --expired --json']

  static override flags = {
    expired: Flags.boolean({ description: 'take down the previews whose ttl has run out (required: the only thing prune removes)', required: true }),
    'dry-run': Flags.boolean({ description: 'list what would be taken down; change nothing' }),
  }

  async run(): Promise<PruneResult> {
    const { flags } = await this.parse(Prune)
    const config = await this.loadConfig(flags.config)
    const result = await prune({ config, dryRun: flags['dry-run'], command: this.commandLine() }, await this.deps(config))
    this.log(formatPruned(result))
    return result
  }
}
