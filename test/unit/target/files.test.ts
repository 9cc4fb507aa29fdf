import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { localFiles } from '../../../src/target/files.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-files-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('localFiles.createExclusive', () => {
  it('creates the file once, with its content and mode, and leaves no temporary file beside it', async () => {
    const lock = join(dir, 'lock')
    expect(await localFiles.createExclusive(lock, '{"pid":1}\n')).toBe(true)
    expect(await localFiles.createExclusive(lock, '{"pid":2}\n')).toBe(false)
    expect(await readFile(lock, 'utf8')).toBe('{"pid":1}\n')
    expect((await stat(lock)).mode & 0o777).toBe(0o600)
    expect(await localFiles.createExclusive(join(dir, 'page'), '', 0o644)).toBe(true)
    expect((await stat(join(dir, 'page'))).mode & 0o777).toBe(0o644 & ~process.umask())
    expect((await readdir(dir)).sort()).toEqual(['lock', 'page'])
  })

  it('never shows the file without its content: of many runs racing for it, one wins and every reader sees all of it or nothing', async () => {
    const lock = join(dir, 'lock')
    const content = `${JSON.stringify({ pid: 1, padding: 'x'.repeat(20_000) })}\n`
    const seen = new Set<string>()
    let racing = true
    const reader = (async () => {
      while (racing) {
        const text = await localFiles.read(lock)
        seen.add(text === undefined ? 'none' : text === content ? 'whole' : `partial ${text.length}`)
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const won = await Promise.all(Array.from({ length: 20 }, () => localFiles.createExclusive(lock, content)))
    racing = false
    await reader
    expect(won.filter(Boolean)).toHaveLength(1)
    expect([...seen].filter((s) => s.startsWith('partial'))).toEqual([])
    expect((await readdir(dir)).sort()).toEqual(['lock'])
  })
})
