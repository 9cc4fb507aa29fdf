import { readOrDamaged } from '../../state/damage.js'
import { describeHolder, type LockInfo, lockPath, readLock } from '../../state/lock.js'
import type { RunIdentity, StateStore } from '../../target/target.js'
import { type Check, plural } from '../check.js'

export interface LockFile {
  env: string
  path: string
  /** undefined: the file is empty (a run killed between creating and writing it). */
  info?: LockInfo
  /** A leased lock's age by the clock of the machine it is on: how long ago its holder last renewed it. */
  ageMs?: number
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
  const info = read.value
  if (info) {
    // Only a leased lock's age says anything: whether a holder on another machine still renews it.
    const ageMs = info.leaseMs !== undefined && !info.manual ? await store.files.ageMs(path) : undefined
    return { env, path, info, ...(ageMs !== undefined ? { ageMs } : {}) }
  }
  // readLock reads an empty lock as no holder: whether a file is there tells it from no lock.
  return (await store.files.stat(path)) ? { env, path } : undefined
}

type Judged = { kind: 'running' | 'held' | 'stale' | 'foreign'; detail: string }

/**
 * As the lock module judges it (state/lock.ts isStale), with the reason: a hold by hand is never stale; a holder
 * of this machine is stale once its process is gone; one of another machine once its lease went unrenewed.
 */
function judge(l: LockFile & { info: LockInfo }, runs: Pick<RunIdentity, 'alive'>): Judged {
  const { env, info } = l
  if (info.manual) return { kind: 'held', detail: `${env}: held by ${describeHolder(info)}; deploys and rollbacks exit 5 until berth unlock ${env}` }
  const alive = runs.alive(info)
  if (alive) return { kind: 'running', detail: `${env}: locked by ${describeHolder(info)}, running now` }
  if (alive === false) return { kind: 'stale', detail: `${env}: stale lock left by ${describeHolder(info)}, whose process is gone` }
  if (info.leaseMs !== undefined && l.ageMs !== undefined) {
    const renewed = `${Math.round(l.ageMs / 1000)}s ago (its lease is ${Math.round(info.leaseMs / 1000)}s)`
    if (l.ageMs > info.leaseMs) return { kind: 'stale', detail: `${env}: stale lock left on host ${info.host} by ${describeHolder(info)}, last renewed ${renewed}` }
    return { kind: 'running', detail: `${env}: locked on host ${info.host} by ${describeHolder(info)}, renewed ${renewed}` }
  }
  return { kind: 'foreign', detail: `${env}: locked on host ${info.host} by ${describeHolder(info)}; its process cannot be checked from here` }
}

/** SPEC §7, §10: stale locks (the next run takes them over), and those that cannot be judged from here. */
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
    const { kind, detail } = judge({ ...l, info: l.info }, runs)
    if (kind === 'stale') stale.push(l)
    if (kind === 'foreign') foreign.push(l)
    details.push(detail)
  }
  if (stale.length === 0 && foreign.length === 0) {
    const held = locks.filter((l) => l.info?.manual).length
    const running = `${locks.length - held} held by running deploys`
    const summary = locks.length === 0 ? 'no environment is locked' : held === 0 ? `${locks.length} lock${plural(locks.length)} ${running}` : `${locks.length} lock${plural(locks.length)}: ${held} held by hand${held < locks.length ? `, ${running}` : ''}`
    return { id: 'locks', status: 'ok', summary, details }
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
