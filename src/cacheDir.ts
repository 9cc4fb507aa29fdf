import { statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

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
