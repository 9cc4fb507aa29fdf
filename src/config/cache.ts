import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'

import { berthCacheDir, ownedByMe, writeAtomically } from '../cacheDir.js'
import type { DeployFile } from './schema.js'

/**
 * The validated-config cache (issue 15): deploy.yml as the schema (schema.ts) validated it, kept by the hash of
 * the file's text and of the build that validated it. A command whose deploy.yml is unchanged since a run of the
 * same build takes that result instead of parsing YAML and building and running the schema, about a tenth of
 * `berth status` (measured in pairs, README's benchmark table). What is read from the cache is exactly what the
 * schema returned for exactly this text: every other check of loadConfig (files that must exist, rules that span
 * keys, preview state) still runs on every command, and a changed byte of deploy.yml, or another build, is a miss.
 *
 * - Only a start that knows its build's identity turns it on (useConfigCache: the fast start of bin/run.js and the
 *   single executable, from a stat of the file they run). Without one (tests of src/, the CLI of ES modules that
 *   help runs), nothing is read or written.
 * - One file per entry, `$XDG_CACHE_HOME/berth/config/<hash>.json` (mode 0600, directory 0700), believed only
 *   when this user owns it and no one else can write it (ownedByMe); it holds what deploy.yml holds. The file is
 *   named by a 64-bit FNV-1a hash of build and text (textKey), not by sha256: node:crypto is 2 ms to load, and
 *   `status` needs it for nothing else. An entry keeps the build and the text it was made from, and is taken only
 *   when both are equal to this run's, so two texts of one name are a miss, never a mix-up.
 * - A value JSON cannot carry as it is (it would not read back equal) is not cached. The newest MAX_ENTRIES stay.
 * - BERTH_CONFIG_CACHE=0 turns it off. A cache that cannot be read or written is no cache; nothing here fails a
 *   command.
 */

let build: string | undefined

/** Turns the cache on for this process, for the build identified by `buildKey` (any string that changes with it). */
export function useConfigCache(buildKey: string | undefined): void {
  build = buildKey
}

const MAX_ENTRIES = 32

export function configCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(berthCacheDir(env), 'config')
}

function entryFile(text: string, env: NodeJS.ProcessEnv): string | undefined {
  if (build === undefined || env.BERTH_CONFIG_CACHE === '0') return undefined
  return join(configCacheDir(env), `${textKey(`${build}\0${text}`)}.json`)
}

/** 64-bit FNV-1a of the UTF-16 code units of `text`, as 16 hex digits (two 32-bit halves, Math.imul). */
export function textKey(text: string): string {
  // The 64-bit offset basis (cbf29ce484222325) and prime (100000001b3), in 16-bit limbs.
  let h0 = 0x2325
  let h1 = 0x8422
  let h2 = 0x9ce4
  let h3 = 0xcbf2
  for (let i = 0; i < text.length; i++) {
    h0 ^= text.charCodeAt(i)
    // (h * 0x100000001b3) mod 2^64: h * 0x1b3 plus (h << 40), limb by limb with carries.
    const t0 = h0 * 0x1b3
    const t1 = h1 * 0x1b3 + (t0 >>> 16)
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + (h0 << 8)
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h1 << 8)
    h0 = t0 & 0xffff
    h1 = t1 & 0xffff
    h2 = t2 & 0xffff
    h3 = t3 & 0xffff
  }
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, '0')).join('')
}

/** The validated deploy.yml of this text, when this build validated the same text before; else undefined. */
export function cachedDeployFile(text: string, env: NodeJS.ProcessEnv = process.env): DeployFile | undefined {
  const file = entryFile(text, env)
  if (!file || !ownedByMe(dirname(file)) || !ownedByMe(file)) return undefined
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { build?: unknown; text?: unknown; value?: unknown }
    if (entry.build !== build || entry.text !== text) return undefined
    return entry.value !== null && typeof entry.value === 'object' ? (entry.value as DeployFile) : undefined
  } catch {
    return undefined
  }
}

/** Keeps what the schema made of this text (atomically: other berth runs may be reading). */
export function rememberDeployFile(text: string, value: DeployFile, env: NodeJS.ProcessEnv = process.env): void {
  const file = entryFile(text, env)
  if (!file) return
  try {
    const json = JSON.stringify({ build, text, value })
    if (!isDeepStrictEqual((JSON.parse(json) as { value: unknown }).value, value)) return
    const dir = dirname(file)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!ownedByMe(dir)) return
    writeAtomically(file, json)
    prune(dir)
  } catch {
    // a cache that cannot be written is no cache
  }
}

function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
  if (entries.length <= MAX_ENTRIES) return
  entries.sort((a, b) => b.mtime - a.mtime)
  for (const old of entries.slice(MAX_ENTRIES)) rmSync(old.path, { force: true })
}
