import { statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

import { berthCacheDir } from '../cacheDir.js'
import { readEntries, writeEntry } from '../cacheEntries.js'

/**
 * Compose's own version, checked once per engine and Compose binary rather than by a `docker compose version`
 * on every command (issue 15). An entry is keyed by the engine's ID and the Compose plugin's path, size and
 * modification time (and the docker client's), so installing another Compose (or reaching another engine) asks again. Kept in the
 * user's cache directory; a cache that cannot be read or written is simply not used.
 */

/** Where the docker CLI looks for its plugins on Linux, in its order (the first docker-compose found is the one it runs). */
export function pluginDirs(env: NodeJS.ProcessEnv): string[] {
  const config = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker')
  return [join(config, 'cli-plugins'), '/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins']
}

export function cacheFile(env: NodeJS.ProcessEnv): string {
  return join(berthCacheDir(env), 'compose-version.json')
}

// Synchronous: a stat is microseconds, and the docker client is looked for on PATH one directory after another
// (awaited one by one, those stats cost a command about 2 ms).
function fileKey(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false })
    return st?.isFile() ? `${path} ${st.size} ${Math.trunc(st.mtimeMs)}` : undefined
  } catch {
    return undefined
  }
}

function firstFileKey(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const key = fileKey(path)
    if (key) return key
  }
  return undefined
}

/**
 * What `docker compose` runs, as a cache key: the docker client on PATH ("path size mtime": another client,
 * a wrapper script, answers for itself) and the Compose plugin it would find. Undefined when either is missing.
 */
export async function composeBinaryKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const client = firstFileKey((env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, 'docker')))
  const plugin = firstFileKey(pluginDirs(env).map((dir) => join(dir, 'docker-compose')))
  return client && plugin ? `${client} | ${plugin}` : undefined
}

const MAX_ENTRIES = 32

export function entryKey(engineId: string, binary: string): string {
  return `${engineId} ${binary}`
}

export async function cachedComposeVersion(key: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const entry = readEntries<{ version: string }>(cacheFile(env))[key]
  return typeof entry?.version === 'string' && entry.version !== '' ? entry.version : undefined
}

/** Records a checked version (the newest entries kept); a failure to write is ignored: the next command asks again. */
export async function rememberComposeVersion(key: string, version: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  writeEntry<{ version: string }>(cacheFile(env), key, () => ({ version }), MAX_ENTRIES)
}
