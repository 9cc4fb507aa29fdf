import type { Command } from '@oclif/core'
import { Plugin } from '@oclif/core/config'
import type { PJSON } from '@oclif/core/interfaces'
import { dirname } from 'node:path'

import { main } from './main.js'

/**
 * The single executable's start (scripts/dist.mjs bundles it with every command into one file): there is no
 * package directory to read package.json, the manifest or the command files from, so the root plugin is
 * built here from what the bundle holds, and oclif is handed it. Its manifest is made from the command
 * classes in memory (explicit discovery, with the commands already in its cache). The fast start of bin/run.js
 * (src/cli/fast.ts) runs one command the same way, with the package's directory as the root.
 */
export async function runExecutable(pjson: PJSON, commands: Record<string, Command.Class>, root = dirname(process.execPath), argv?: string[]): Promise<void> {
  const plugin = new Plugin({ root, pjson, isRoot: true, ignoreManifest: true })
  // oclif's explicit strategy imports its target file for this cache; the executable has the classes already.
  ;(plugin as unknown as { commandCache: Record<string, Command.Class> }).commandCache = commands
  await plugin.load()
  await main({ root, pjson, plugins: new Map([[plugin.name, plugin]]) }, argv)
}
