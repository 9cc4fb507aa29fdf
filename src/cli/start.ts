import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { loadWithCompileCache } from './compileCache.js'

type FastRun = (root: string, argv: string[], build: string) => Promise<boolean>

/**
 * What bin/run.js runs. The fast start first (src/cli/fast.ts: the build's dist/bundle/berth.cjs, with V8's
 * code cache), then, for what it leaves (help, plugins, unknown commands) or when the build has none, the CLI
 * of ES modules that oclif loads from its manifest (dist/bundle/main.js). Both run the same command classes.
 */
export async function start(binUrl: string, argv: string[] = process.argv.slice(2)): Promise<void> {
  const fast = new URL('../dist/bundle/berth.cjs', binUrl)
  const built = statSync(fast, { throwIfNoEntry: false })
  if (built) {
    const { exports } = loadWithCompileCache(fileURLToPath(fast), cacheKey(binUrl, argv[0]))
    // The build's identity, for what is cached per build (config/cache.ts).
    const build = `${fileURLToPath(fast)} ${built.size} ${built.mtimeMs}`
    if (await (exports.run as FastRun)(fileURLToPath(new URL('..', binUrl)), argv, build)) return
  }
  const { main } = (await import(new URL('../dist/bundle/main.js', binUrl).href)) as { main: (load: string, argv: string[]) => Promise<void> }
  await main(binUrl, argv)
}

/**
 * Which code cache a run uses (src/cli/compileCache.ts): `version`, a command of the build's own (its bundled
 * module is there), or `other` for the rest (help, plugins, a mistyped command, which would otherwise each leave a
 * cache file of their own behind).
 */
function cacheKey(binUrl: string, first: string | undefined): string {
  if (first === '--version') return 'version'
  if (first === undefined || !/^[a-z][a-z-]*$/.test(first)) return 'other'
  return statSync(new URL(`../dist/bundle/commands/${first}.js`, binUrl), { throwIfNoEntry: false })?.isFile() ? first : 'other'
}
