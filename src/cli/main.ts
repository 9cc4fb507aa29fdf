import { Config } from '@oclif/core/config'
import { execute } from '@oclif/core/execute'

import { BUILD_COMMIT, versionLine } from './version.js'

type LoadOptions = Parameters<typeof Config.load>[0]

/**
 * Runs the CLI: bin/run.js with the package's directory, the single executable (src/cli/sea.ts) with a
 * config whose commands are in the executable itself. `--version` is answered here, where oclif would answer
 * it (its first argument only): oclif prints a Config's userAgent, and rebuilds any Config it is handed.
 */
export async function main(load: LoadOptions, argv: string[] = process.argv.slice(2)): Promise<void> {
  if (argv[0] === '--version') {
    const config = await Config.load(load)
    process.stdout.write(`${versionLine(config.userAgent, BUILD_COMMIT)}\n`)
    return
  }
  await execute({ args: argv, loadOptions: load })
}
