import { readOrDamaged } from '../../state/damage.js'
import { describeHolder, type LockInfo, lockPath, readLock } from '../../state/lock.js'
import type { RunIdentity, StateStore } from '../../target/target.js'
import { type Check, plural } from '../check.js'

export interface LockFile {
  env: string
  path: string
  /** undefined: the file is empty (a run killed between creating and writing it). */
  info?: LockInfo
}

/** Locks that read, or are empty; a damaged one is the state check's finding. */
export async function readLocks(store: StateStore, envs: readonly string[]): Promise<LockFile[]> {
  const locks = await Promise.all(envs.map(async (env) => readLockFile(store, env)))
  return locks.filter((l): l is LockFile => l !== undefined)
}

async function readLockFile(store: StateStore, env: string): Promise<LockFile | undefined> {
  const read = await readOrDamaged(readLock(store, env))
  if (!read.ok) return undefined
  const path = lockPath(store.dir, env)
  if (read.value) return { env, path, info: read.value }
  // readLock reads an empty lock as no holder: whether a file is there tells it from no lock.
  return (await store.files.stat(path)) ? { env, path } : undefined
}

/** SPEC §7: a lock whose process is gone on this host is stale; one taken on another host cannot be judged from here. */
export function lockCheck(locks: readonly LockFile[], runs: Pick<RunIdentity, 'alive'>): Check {
  const stale: LockFile[] = []
  const foreign: LockFile[] = []
  const details: string[] = []
  for (const l of locks) {
    if (!l.info) {
      stale.push(l)
      details.push(`${l.env}: ${l.path} is empty (left by a run killed while taking it)`)
      continue
    }
    const alive = runs.alive(l.info)
    if (alive === undefined) {
      foreign.push(l)
      details.push(`${l.env}: locked on host ${l.info.host} by ${describeHolder(l.info)}; its process cannot be checked from here`)
    } else if (alive) {
      details.push(`${l.env}: locked by ${describeHolder(l.info)}, running now`)
    } else {
      stale.push(l)
      details.push(`${l.env}: stale lock left by ${describeHolder(l.info)}, whose process is gone`)
    }
  }
  if (stale.length === 0 && foreign.length === 0) {
    return { id: 'locks', status: 'ok', summary: locks.length === 0 ? 'no environment is locked' : `${locks.length} lock${plural(locks.length)} held by running deploys`, details }
  }
  return {
    id: 'locks',
    status: 'warn',
    summary: stale.length > 0 ? `${stale.length} stale lock${plural(stale.length)}` : `${foreign.length} lock${plural(foreign.length)} taken on another host`,
    details,
    hint:
      stale.length > 0
        ? `The next deploy or rollback of ${stale.map((l) => l.env).join(', ')} takes ${stale.length === 1 ? 'it' : 'them'} over with a warning; to clear now: rm ${stale.map((l) => l.path).join(' ')}`
        : 'Remove such a lock only when that run is certainly over.',
  }
}
