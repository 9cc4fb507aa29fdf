import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { EdgeUnavailableError } from '../../../src/edge/errors.js'
import { clearLive, readLive, setLive } from '../../../src/edge/live.js'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-live-'))
})

afterEach(() => {
  chmodSync(dir, 0o755)
  rmSync(dir, { recursive: true, force: true })
})

describe('live markers', () => {
  it('creates the marker of the first live colour, then renames it on each switch, never leaving two', async () => {
    expect(await readLive(dir, 'shop', 'production')).toBeUndefined()
    await setLive(dir, 'shop', 'production', 'blue')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['blue'])
    await setLive(dir, 'shop', 'production', 'green')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['green'])
    expect(await readLive(dir, 'shop', 'production')).toBe('green')
    await setLive(dir, 'shop', 'production', 'green')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['green'])
    await setLive(dir, 'shop', 'production', 'blue')
    expect(await readLive(dir, 'shop', 'production')).toBe('blue')
  })

  it('keeps environments apart, prod and prod-2 included', async () => {
    await setLive(dir, 'shop', 'prod', 'blue')
    await setLive(dir, 'shop', 'prod-2', 'green')
    await setLive(dir, 'blog', 'prod', 'green')
    expect([await readLive(dir, 'shop', 'prod'), await readLive(dir, 'shop', 'prod-2'), await readLive(dir, 'blog', 'prod')]).toEqual(['blue', 'green', 'green'])
    await clearLive(dir, 'shop', 'prod')
    expect([await readLive(dir, 'shop', 'prod'), await readLive(dir, 'shop', 'prod-2')]).toEqual([undefined, 'green'])
    await clearLive(dir, 'shop', 'prod-2')
    expect(readdirSync(dir).sort()).toEqual(['blog'])
  })

  it('says what to do when the directory cannot be written', async () => {
    if (process.getuid?.() === 0) return // root writes anywhere: nothing to refuse
    chmodSync(dir, 0o555)
    await expect(setLive(dir, 'shop', 'production', 'blue')).rejects.toBeInstanceOf(EdgeUnavailableError)
    await expect(setLive(dir, 'shop', 'production', 'blue')).rejects.toThrow(/cannot switch the edge's live marker/)
  })
})
