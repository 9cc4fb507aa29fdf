import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire, Module } from 'node:module'
import { basename, dirname, join } from 'node:path'
import vm from 'node:vm'

import { berthCacheDir, ownedByMe, writeAtomically } from '../cacheDir.js'

/**
 * Loads one CommonJS file of berth's build with V8's code cache (scripts/bundle.mjs writes it: every command in
 * dist/bundle/berth.cjs, each command's modules run only when it runs). Compiling berth's 1.5 MB of JavaScript was the largest part of a command's
 * start-up (about 130 ms of `berth rollback`'s 330 ms before its first engine read, in a CPU profile); the
 * Node this runs on (20) has no compile cache of its own for ES modules, so that file is CommonJS and compiled
 * here with `cachedData`. After the first run of a build the cache holds the bytecode of every function that run
 * called, and later runs skip compiling them.
 *
 * The cache is a file per command in `$XDG_CACHE_HOME/berth/v8` (or ~/.cache/berth/v8), named by the source
 * file's size and modification time and by Node's version and architecture, so a new build or another Node
 * starts a new one. V8 checks the cache against the source itself and rejects one that does not fit; a rejected
 * or missing cache is written again at exit. Nothing here can fail a command: a cache that cannot be read or
 * written is no cache, and so is one another user could have written (ownedByMe, src/cacheDir.ts). BERTH_COMPILE_CACHE=0
 * turns it off.
 */
export interface Loaded {
  exports: Record<string, unknown>
  /** Whether the cache was there and V8 took it. */
  cacheUsed: boolean
}

export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(berthCacheDir(env), 'v8')
}

/**
 * The cache file of `file` for one use of it (`key`: the command; a run of `status` and one of `deploy` call
 * different functions of the same file), from a stat of it; undefined when it cannot be read.
 */
export function cacheFileOf(file: string, key: string, dir: string): string | undefined {
  try {
    const s = statSync(file)
    return join(dir, `${cachePrefix(file, key)}${s.size}-${Math.trunc(s.mtimeMs)}-${process.version}-${process.arch}.v8`)
  } catch {
    return undefined
  }
}

function cachePrefix(file: string, key: string): string {
  return `${basename(file)}-${/^[a-z][a-z-]*$/.test(key) ? key : 'other'}-`
}

export function loadWithCompileCache(file: string, key: string, env: NodeJS.ProcessEnv = process.env): Loaded {
  const source = readFileSync(file, 'utf8')
  const cacheFile = env.BERTH_COMPILE_CACHE === '0' ? undefined : cacheFileOf(file, key, compileCacheDir(env))
  let cachedData: Buffer | undefined
  if (cacheFile && ownedByMe(dirname(cacheFile)) && ownedByMe(cacheFile)) {
    try {
      cachedData = readFileSync(cacheFile)
    } catch {
      cachedData = undefined
    }
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // The bundle keeps import() of what it loads on first use from node_modules (listr2): Node's own loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected
  if (cacheFile && !cacheUsed) process.once('exit', () => writeCache(cacheFile, cachePrefix(file, key), script))
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void
  const module = { exports: {} as Record<string, unknown>, filename: file, id: file, loaded: false }
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  module.loaded = true
  return { exports: module.exports, cacheUsed }
}

/**
 * Written at exit, when the run has compiled what it called; atomically, as other berth runs may read it. The
 * caches of earlier builds for the same use go.
 */
function writeCache(cacheFile: string, prefix: string, script: vm.Script): void {
  try {
    const data = script.createCachedData()
    const dir = dirname(cacheFile)
    writeAtomically(cacheFile, data)
    for (const old of readdirSync(dir)) if (old.startsWith(prefix) && old.endsWith('.v8') && join(dir, old) !== cacheFile) rmSync(join(dir, old), { force: true })
  } catch {
    // a cache that cannot be written is no cache
  }
}
