import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { EdgeStateError, EdgeUnavailableError } from '../../../src/edge/errors.js'
import { clearLive, readLive, setLive } from '../../../src/edge/live.js'
import { localFiles } from '../../../src/target/files.js'

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
    expect(await readLive(localFiles, dir, 'shop', 'production')).toBeUndefined()
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['blue'])
    await setLive(localFiles, dir, 'shop', 'production', 'green')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['green'])
    expect(await readLive(localFiles, dir, 'shop', 'production')).toBe('green')
    await setLive(localFiles, dir, 'shop', 'production', 'green')
    expect(readdirSync(join(dir, 'shop', 'production'))).toEqual(['green'])
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    expect(await readLive(localFiles, dir, 'shop', 'production')).toBe('blue')
  })

  it('keeps environments apart, prod and prod-2 included', async () => {
    await setLive(localFiles, dir, 'shop', 'prod', 'blue')
    await setLive(localFiles, dir, 'shop', 'prod-2', 'green')
    await setLive(localFiles, dir, 'blog', 'prod', 'green')
    expect([await readLive(localFiles, dir, 'shop', 'prod'), await readLive(localFiles, dir, 'shop', 'prod-2'), await readLive(localFiles, dir, 'blog', 'prod')]).toEqual(['blue', 'green', 'green'])
    await clearLive(localFiles, dir, 'shop', 'prod')
    expect([await readLive(localFiles, dir, 'shop', 'prod'), await readLive(localFiles, dir, 'shop', 'prod-2')]).toEqual([undefined, 'green'])
    await clearLive(localFiles, dir, 'shop', 'prod-2')
    expect(readdirSync(dir).sort()).toEqual(['blog'])
  })

  it('says what to do when the directory cannot be written', async () => {
    if (process.getuid?.() === 0) return // root writes anywhere: nothing to refuse
    chmodSync(dir, 0o555)
    await expect(setLive(localFiles, dir, 'shop', 'production', 'blue')).rejects.toBeInstanceOf(EdgeUnavailableError)
    await expect(setLive(localFiles, dir, 'shop', 'production', 'blue')).rejects.toThrow(/cannot switch the edge's live marker/)
  })

  it('refuses a marker it cannot read, both colours at once or one that is not a file, and switches nothing (exit 2)', async () => {
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    writeFileSync(join(dir, 'shop', 'production', 'green'), '')
    await expect(readLive(localFiles, dir, 'shop', 'production')).rejects.toMatchObject({ code: 'EDGE_STATE_DAMAGED', exitCode: 2 })
    await expect(readLive(localFiles, dir, 'shop', 'production')).rejects.toThrow(/holds both blue and green/)
    await expect(setLive(localFiles, dir, 'shop', 'production', 'green')).rejects.toBeInstanceOf(EdgeStateError)
    expect(readdirSync(join(dir, 'shop', 'production')).sort()).toEqual(['blue', 'green'])

    mkdirSync(join(dir, 'shop', 'staging', 'green'), { recursive: true })
    await expect(readLive(localFiles, dir, 'shop', 'staging')).rejects.toThrow(/live marker .*shop\/staging\/green of shop\/staging is not a file/)
  })

  it('ignores what is not a marker, such as the file of an interrupted first switch', async () => {
    mkdirSync(join(dir, 'shop', 'production'), { recursive: true })
    writeFileSync(join(dir, 'shop', 'production', '.blue.4242'), '')
    expect(await readLive(localFiles, dir, 'shop', 'production')).toBeUndefined()
  })
})
