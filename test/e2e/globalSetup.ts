import { spawnSync } from 'node:child_process'

import type { TestProject } from 'vitest/node'

import { type Inventory, inventory } from './inventory.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The engines before the first test; undefined when no engine answered (unit tests only). */
    engineBefore: Inventory | undefined
  }
}

/** Takes the inventory the last end-to-end test compares with (leftovers.test.ts). */
export default async function setup(project: TestProject): Promise<void> {
  const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore' })
  project.provide('engineBefore', engine.status === 0 ? await inventory() : undefined)
}
