import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, describe, expect, it } from 'vitest'

import { cacheFileOf, compileCacheDir, loadWithCompileCache } from '../../../src/cli/compileCache.js'

const work = mkdtempSync(join(tmpdir(), 'berth-v8cache-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const compileCacheJs = fileURLToPath(new URL('../../../dist/cli/compileCache.js', import.meta.url))

/** Loads `file` in a fresh Node (the cache is written at that process's exit) and says whether V8 took the cache. */
function loadInChild(file: string, key: string, env: NodeJS.ProcessEnv): { used: boolean; answer: unknown } {
  const script = `import { loadWithCompileCache } from ${JSON.stringify(compileCacheJs)}
const { exports, cacheUsed } = loadWithCompileCache(${JSON.stringify(file)}, ${JSON.stringify(key)})
console.log(JSON.stringify({ used: cacheUsed, answer: exports.answer(20) }))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as { used: boolean; answer: unknown }
}

describe('compileCacheDir', () => {
  it('is under XDG_CACHE_HOME, else ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/a' })).toBe('/x/cache/berth/v8')
    expect(compileCacheDir({ HOME: '/home/a' })).toBe('/home/a/.cache/berth/v8')
  })
})

describe('loadWithCompileCache', () => {
  const file = join(work, 'mod.cjs')
  writeFileSync(file, "const path = require('node:path')\nmodule.exports.answer = (n) => n * 2 + path.sep.length + (typeof __filename === 'string' ? 1 : 0)\n")
  const env = { XDG_CACHE_HOME: join(work, 'cache'), BERTH_COMPILE_CACHE: '' }

  it('runs a CommonJS file (require, module.exports, __filename), writes its cache at exit and takes it the next time', () => {
    expect(loadInChild(file, 'status', env)).toEqual({ used: false, answer: 42 })
    const dir = join(work, 'cache', 'berth', 'v8')
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^mod\.cjs-status-\d+-\d+-v\d+\.\d+\.\d+-\w+\.v8$/)])
    expect(loadInChild(file, 'status', env)).toEqual({ used: true, answer: 42 })
    // Another command of the same file has its own cache.
    expect(loadInChild(file, 'deploy', env)).toEqual({ used: false, answer: 42 })
    expect(readdirSync(dir)).toHaveLength(2)
  })

  it('starts a new cache for a new build of the file, and removes the old one', () => {
    const dir = join(work, 'cache', 'berth', 'v8')
    writeFileSync(file, "module.exports.answer = (n) => n + 1\n")
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    expect(loadInChild(file, 'status', env)).toEqual({ used: false, answer: 21 })
    expect(readdirSync(dir).filter((f) => f.startsWith('mod.cjs-status-'))).toEqual([cacheFileOf(file, 'status', dir)?.slice(dir.length + 1)])
    expect(loadInChild(file, 'status', env)).toEqual({ used: true, answer: 21 })
  })

  it('takes a cache V8 rejects (garbage) as none, and writes a good one', () => {
    const dir = join(work, 'cache', 'berth', 'v8')
    const cache = cacheFileOf(file, 'status', dir) as string
    writeFileSync(cache, 'not a V8 code cache')
    expect(loadInChild(file, 'status', env)).toEqual({ used: false, answer: 21 })
    expect(loadInChild(file, 'status', env)).toEqual({ used: true, answer: 21 })
  })

  it('runs without a cache when its directory cannot be written, and when BERTH_COMPILE_CACHE=0', () => {
    const blocked = join(work, 'blocked')
    writeFileSync(blocked, 'a file where the cache directory would be')
    expect(loadInChild(file, 'status', { XDG_CACHE_HOME: blocked })).toEqual({ used: false, answer: 21 })
    const off = join(work, 'off')
    expect(loadInChild(file, 'status', { XDG_CACHE_HOME: off, BERTH_COMPILE_CACHE: '0' })).toEqual({ used: false, answer: 21 })
    expect(() => readdirSync(off)).toThrow()
  })

  it('in this process too: exports of the file', () => {
    expect((loadWithCompileCache(file, 'other', { BERTH_COMPILE_CACHE: '0' }).exports.answer as (n: number) => number)(1)).toBe(2)
  })
})

describe('loadWithCompileCache, whose cache is code run as this user', () => {
  it('takes no cache from a directory others can write, and none others could have replaced', async () => {
    const { chmodSync } = await import('node:fs')
    const file = join(work, 'shared.cjs')
    writeFileSync(file, 'module.exports.answer = (n) => n\n')
    const env = { XDG_CACHE_HOME: join(work, 'shared-cache'), BERTH_COMPILE_CACHE: '' }
    expect(loadInChild(file, 'status', env)).toEqual({ used: false, answer: 20 })
    const dir = join(work, 'shared-cache', 'berth', 'v8')
    expect(loadInChild(file, 'status', env).used).toBe(true)
    chmodSync(dir, 0o777)
    expect(loadInChild(file, 'status', env).used).toBe(false)
    chmodSync(dir, 0o700)
    chmodSync(cacheFileOf(file, 'status', dir) as string, 0o666)
    expect(loadInChild(file, 'status', env).used).toBe(false)
  })
})
