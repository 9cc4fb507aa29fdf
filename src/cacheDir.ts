import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** berth's directory of caches: $XDG_CACHE_HOME/berth, else ~/.cache/berth. What is in it can always be thrown away. */
export function berthCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'berth')
}

/**
 * Whether a cached file (or its directory) may be believed: this user's, and writable by no one else. What berth
 * runs or trusts from a cache (bytecode, a validated deploy.yml) must be what this user wrote: root under a sudo
 * that kept another user's HOME must not take what that user could have put there.
 */
export function ownedByMe(path: string): boolean {
  try {
    const s = statSync(path)
    return (process.getuid === undefined || s.uid === process.getuid()) && (s.mode & 0o022) === 0
  } catch {
    return false
  }
}

/**
 * Writes a cache file whole or not at all, as other berth runs may be reading it: a temporary file beside it (mode
 * 0600) renamed over it, in a directory made 0700 if it is not there. Throws what the file system throws.
 */
export function writeAtomically(file: string, data: string | NodeJS.ArrayBufferView): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, data, { mode: 0o600 })
    renameSync(tmp, file)
  } catch (error) {
    rmSync(tmp, { force: true })
    throw error
  }
}
