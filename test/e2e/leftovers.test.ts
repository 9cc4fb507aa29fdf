import { describe, expect, inject, it } from 'vitest'

import { inventory, leftovers } from './inventory.js'
import { requireEngine } from './engine.js'

/**
 * Runs after every other end-to-end file (its own project, groupOrder 1 in vitest.config.ts): the suite leaves nothing of its own behind —
 * containers, networks, volumes, tagged images, edge routes, the edge's live markers — compared with what the engines held
 * before the first test (globalSetup.ts). Images that existed before (berth-edge:local, built by
 * scripts/edge-image.sh before the suite) are not counted.
 */
describe('the end-to-end suite', () => {
  it('leaves nothing of its own on the engine', async () => {
    requireEngine()
    const before = inject('engineBefore')
    expect(before, 'no inventory was taken before the first test (see test/e2e/globalSetup.ts)').toBeDefined()
    if (!before) return
    expect(leftovers(before, await inventory())).toEqual({})
  })
})
