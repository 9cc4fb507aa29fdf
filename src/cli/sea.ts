import type { Command } from '@oclif/core'
import { Config, Plugin } from '@oclif/core/config'
import type { PJSON } from '@oclif/core/interfaces'
import { dirname } from 'node:path'

/**
 * The single executable's start (scripts/dist.mjs bundles it with every command into one file): there is no
 * package directory to read package.json, the manifest or the command files from, so the root plugin is
 * built here from what the bundle holds, and oclif is handed it. Its manifest is made from the command
 * classes in memory (explicit discovery, with the commands already in its cache). The fast start of bin/run.js
 * (src/cli/fast.ts) runs one command the same way, with the package's directory as the root.
 */
export async function runExecutable(pjson: PJSON, commands: Record<string, Command.Class>, root = dirname(process.execPath), argv?: string[]): Promise<void> {
  // Imported here: runOne, which the fast start imports this module for, needs none of oclif's main module, its
  // help or its error handler (about 3 ms of every command's start when it was imported at the top).
  const { main } = await import('./main.js')
  await main(await rootLoad(pjson, commands, root), argv)
}

/**
 * One known command, the way oclif's execute() runs it once it has found the command (main.js: the init hook,
 * config.runCommand, the finally hook, then flush, or handle for what the command let through), without what
 * only help, `--version` and unknown commands need: oclif's main module loads its help and the whole of its ux,
 * and its error handler loads the help too, so that one is imported only when an error reaches it.
 * src/cli/fast.ts calls this only for a command id it holds and an argv without --help or -h.
 */
export async function runOne(pjson: PJSON, id: string, command: Command.Class, root: string, argv: string[]): Promise<void> {
  try {
    const config = await Config.load(await rootLoad(pjson, { [id]: command }, root))
    await config.runHook('init', { argv, id })
    let error: Error | undefined
    try {
      await config.runCommand(id, argv)
    } catch (thrown) {
      error = thrown as Error
      throw thrown
    } finally {
      await config.runHook('finally', { argv, Command: config.findCommand(id), error, id })
    }
    const { flush } = await import('@oclif/core/flush')
    await flush()
  } catch (error) {
    const { handle } = await import('@oclif/core/handle')
    await handle(error as Error)
  }
}

async function rootLoad(pjson: PJSON, commands: Record<string, Command.Class>, root: string) {
  const plugin = new Plugin({ root, pjson, isRoot: true, ignoreManifest: true })
  // oclif's explicit strategy imports its target file for this cache; the executable has the classes already.
  ;(plugin as unknown as { commandCache: Record<string, Command.Class> }).commandCache = commands
  await plugin.load()
  return { root, pjson, plugins: new Map([[plugin.name, plugin]]) }
}
