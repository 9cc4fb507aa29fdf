import type { Command } from '@oclif/core'
import type { PJSON } from '@oclif/core/interfaces'
import { arch, platform } from 'node:os'

import { BUILD_COMMIT, versionLine } from './version.js'

/** A command's module, imported when it runs (scripts/bundle.mjs generates these for dist/bundle/berth.cjs). */
export type CommandLoaders = Record<string, () => Promise<{ default: Command.Class }>>

/**
 * The fast start (bin/run.js → src/cli/start.ts): one CommonJS file of every command, compiled with V8's code
 * cache (src/cli/compileCache.ts). It runs `berth --version` and any berth command, the way the single
 * executable does (src/cli/sea.ts): oclif is handed the one command class, so it reads no manifest and no
 * command file. `build` identifies the build, for the validated-config cache (src/config/cache.ts). It returns
 * false for what needs the whole CLI, which bin/run.js then runs as before: help (`--help`, `-h`, `help`), a
 * plugin's command (`autocomplete`), anything unknown (oclif's "did you mean").
 */
export async function runFast(root: string, pjson: PJSON, commands: CommandLoaders, argv: string[], build?: string): Promise<boolean> {
  if (argv[0] === '--version' && argv.length === 1) {
    process.stdout.write(`${versionLine(await userAgent(pjson), BUILD_COMMIT)}\n`)
    return true
  }
  const id = argv[0]
  const load = id !== undefined && Object.hasOwn(commands, id) ? commands[id] : undefined
  if (!load || argv.some((a) => a === '--help' || a === '-h')) return false
  // Imported here, not at the top: `--version` then loads none of oclif.
  const [{ default: command }, { runOne }, { useConfigCache }] = await Promise.all([load(), import('./sea.js'), import('../config/cache.js')])
  // `build` (a stat of the file that runs) says which build validated a cached deploy.yml.
  useConfigCache(build)
  await runOne(pjson, id as string, command, root, argv.slice(1))
  return true
}

/** oclif's Config.userAgent, as oclif makes it (config.js): name/version platform-arch node-version. */
export async function userAgent(pjson: Pick<PJSON, 'name' | 'version'>): Promise<string> {
  const { isWsl } = await import('wsl-utils')
  const os = isWsl ? 'wsl' : platform()
  return `${pjson.name}/${pjson.version} ${os}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}`
}
