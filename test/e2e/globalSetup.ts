import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

import type { TestProject } from 'vitest/node'

import { type Inventory, inventory } from './inventory.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The engines before the first test; undefined when no engine answered (unit tests only). */
    engineBefore: Inventory | undefined
  }
}

/**
 * Takes the inventory the last end-to-end test compares with (leftovers.test.ts). When the suite runs as several
 * vitest processes (scripts/test.sh), BERTH_INVENTORY_FILE holds the one inventory: the first process writes
 * it before its first test, the leftovers run reads it.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('engineBefore', await engineBefore())
}

async function engineBefore(): Promise<Inventory | undefined> {
  const file = process.env.BERTH_INVENTORY_FILE
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Inventory
  const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore' })
  if (engine.status !== 0) return undefined
  const taken = await inventory()
  if (file) {
    writeFileSync(`${file}.tmp`, JSON.stringify(taken))
    renameSync(`${file}.tmp`, file)
  }
  return taken
}
