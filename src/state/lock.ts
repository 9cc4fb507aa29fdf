import * as z from 'zod/mini'

import { LockHeldError, StateDamagedError } from '../errors.js'
import type { Reporter } from '../progress.js'
import type { Files } from '../target/files.js'
import type { RunIdentity, StateStore } from '../target/target.js'
import { parseState, shellWord, unlessMissing } from './files.js'
import { environmentPaths } from './paths.js'

export interface LockInfo {
  pid: number
  host: string
  by: string
  command: string
  startedAt: string
  /** A hold taken by hand (`berth lock ENV -m …`, a deploy freeze): never stale, released by `berth unlock`. */
  manual?: boolean
  message?: string
  /**
   * The holder renews the lock file's modification time every LEASE_RENEW_MS while it runs; a lock not
   * renewed for this long is stale when its holder's process cannot be seen (another machine, SPEC §10).
   */
  leaseMs?: number
}

/** How long a lock of another machine's run may go unrenewed before it is judged abandoned. */
export const LEASE_MS = 60_000
/** How often a running holder renews its lock. */
export const LEASE_RENEW_MS = 5_000

export function lockPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).lock
}

/** A lock file younger than this that cannot be read is being written, not abandoned. */
const FRESH_MS = 5000

const lockSchema: z.ZodMiniType<LockInfo> = z.looseObject({
  pid: z.int(unlessMissing('expected a process id')).check(z.positive('expected a process id')),
  host: z.string(),
  by: z.string(),
  command: z.string(),
  startedAt: z.string(),
  manual: z.optional(z.boolean()),
  message: z.optional(z.string()),
  leaseMs: z.optional(z.int().check(z.positive())),
})

/**
 * What a lock file says. Empty is what a run killed between creating the file (O_EXCL) and writing it
 * leaves: abandoned once it is older than FRESH_MS. Anything else that does not read as a holder is
 * damaged: berth writes the whole holder in one write (and removes the file when that write fails), so
 * it cannot tell who holds such a lock, and neither takes it over nor removes it.
 */
export type LockContent = { holder: LockInfo } | { empty: true } | { problem: string }

export function parseLock(content: string): LockContent {
  if (content === '') return { empty: true }
  const parsed = parseState(content, lockSchema)
  return parsed.ok ? { holder: parsed.value } : { problem: parsed.problem }
}

function damagedLock(path: string, env: string, problem: string): StateDamagedError {
  return new StateDamagedError(path, problem, `berth cannot tell which run holds it. If no berth run of ${env} is going on, remove it: rm ${shellWord(path)}`)
}

async function ageMs(files: Files, path: string): Promise<number> {
  return (await files.ageMs(path)) ?? Number.POSITIVE_INFINITY
}

/**
 * Removes a stale lock only if it still holds what was judged stale. The check-and-remove is serialized by
 * a short-lived guard file, so of two runs that saw the same dead holder, the second finds the first's
 * fresh lock instead of deleting it.
 */
async function removeIfUnchanged(files: Files, path: string, staleContent: string): Promise<boolean> {
  const guard = `${path}.takeover`
  if (!(await files.createExclusive(guard, ''))) {
    const age = (await files.ageMs(guard)) ?? 0
    if (age > FRESH_MS) await files.remove(guard) // left by a run killed mid-takeover
    return false
  }
  try {
    if ((await files.read(path)) !== staleContent) return false
    await files.remove(path)
    return true
  } finally {
    await files.remove(guard)
  }
}

export function describeHolder(info: LockInfo): string {
  if (info.manual) return `${info.by} (held by hand since ${info.startedAt}${info.message ? `: "${info.message}"` : ''})`
  return `${info.by} (pid ${info.pid}, "${info.command}", since ${info.startedAt})`
}

/**
 * SPEC §7: a lock whose process is gone is stale. A holder on another machine (a lock on an ssh:// host,
 * SPEC §10) cannot be seen from here: its lock is stale once it has gone unrenewed for its lease, `ageMs`
 * being the lock file's age by the clock of the machine it is on. A hold taken by hand is never stale.
 */
export function isStale(info: LockInfo, runs: RunIdentity, ageMs?: number): boolean {
  if (info.manual) return false
  const alive = runs.alive(info)
  if (alive !== undefined) return !alive
  return info.leaseMs !== undefined && ageMs !== undefined && ageMs > info.leaseMs
}

/** Whether a holder is stale, reading the lock file's age only when its process cannot be seen from here. */
export async function judgeStale(store: StateStore, env: string, info: LockInfo, runs: RunIdentity): Promise<boolean> {
  if (info.manual || runs.alive(info) !== undefined) return isStale(info, runs)
  return isStale(info, runs, await store.files.ageMs(lockPath(store.dir, env)))
}

/** The holder; undefined when there is no lock or only an empty one. A damaged lock throws StateDamagedError. */
export async function readLock(store: StateStore, env: string): Promise<LockInfo | undefined> {
  const path = lockPath(store.dir, env)
  const text = await store.files.read(path)
  if (text === undefined) return undefined
  const content = parseLock(text)
  if ('problem' in content) throw damagedLock(path, env, content.problem)
  return 'holder' in content ? content.holder : undefined
}

/** Removes a hold taken by hand, or a stale lock; never the lock of a run that is still going. */
export async function releaseHold(store: StateStore, env: string, runs: RunIdentity): Promise<LockInfo | undefined> {
  const holder = await readLock(store, env)
  if (!holder) return undefined
  if (!holder.manual && !(await judgeStale(store, env, holder, runs))) {
    throw new LockHeldError(`${env} is locked by a running ${describeHolder(holder)}, not by hand`, `Wait for it to finish, or stop pid ${holder.pid}.`)
  }
  await store.files.remove(lockPath(store.dir, env))
  return holder
}

/**
 * SPEC §7: one lock per environment, created with O_EXCL so two runs can never both hold it. A lock whose
 * process is gone (SIGKILL, reboot) — or, held from another machine, whose lease ran out — is taken over
 * with a warning. A run's lock is renewed while it is held (its lease). Returns the release function.
 */
export async function acquireLock(store: StateStore, env: string, info: LockInfo, reporter: Reporter, runs: RunIdentity): Promise<() => Promise<void>> {
  const { files } = store
  const path = lockPath(store.dir, env)
  const content = `${JSON.stringify(info.manual ? info : { ...info, leaseMs: LEASE_MS })}\n`
  await files.privateDir(environmentPaths(store.dir, env).dir)
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await files.createExclusive(path, content)) return heldLock(files, path, content, info.manual === true)
    const found = await files.read(path)
    if (found === undefined) continue // released meanwhile
    const parsed = parseLock(found)
    const holder = 'holder' in parsed ? parsed.holder : undefined
    const age = await ageMs(files, path)
    if (!holder && age < FRESH_MS) {
      throw new LockHeldError(`${env} is being locked by another run at this moment`, 'Try again in a few seconds.')
    }
    if ('problem' in parsed) throw damagedLock(path, env, parsed.problem)
    if (holder && !isStale(holder, runs, age)) throw heldBy(holder, env, path, runs)
    if (await removeIfUnchanged(files, path, found)) reporter.warn(`taking over a stale lock on ${env}${holder ? ` left by ${describeHolder(holder)}, ${whyStale(holder, runs, age)}` : ': an empty lock file, left by a run killed while taking it'}`)
  }
  throw new LockHeldError(`${env} is locked: another run took the lock at the same moment`, 'Try again.')
}

function whyStale(holder: LockInfo, runs: RunIdentity, age: number): string {
  if (runs.alive(holder) !== undefined) return 'whose process is gone'
  return `on host ${holder.host}, not renewed for ${Math.round(age / 1000)}s (that machine went down or lost its connection)`
}

/**
 * A lock this run holds: a run's is renewed every LEASE_RENEW_MS — only while it still holds what this run
 * wrote, so a lock taken over meanwhile is never renewed (nor removed) by it.
 */
function heldLock(files: Files, path: string, content: string, manual: boolean): () => Promise<void> {
  let held = true
  const renew = manual
    ? undefined
    : setInterval(() => {
        void files
          .read(path)
          .then((now) => (held && now === content ? files.touch(path) : undefined))
          .catch(() => undefined) // a dropped connection: the lease runs out, as it should
      }, LEASE_RENEW_MS)
  renew?.unref()
  // Once only, and only while the file is still this run's: a lock another run took over is theirs.
  return async () => {
    if (!held) return
    held = false
    clearInterval(renew)
    if ((await files.read(path)) === content) await files.remove(path)
  }
}

function heldBy(holder: LockInfo, env: string, path: string, runs: RunIdentity): LockHeldError {
  return new LockHeldError(
    `${env} is locked by ${describeHolder(holder)}`,
    holder.manual
      ? `Release the hold with: berth unlock ${env}`
      : holder.host === runs.hostname
        ? `Wait for that run to finish. If it is stuck, stop pid ${holder.pid}; the lock is then taken over.`
        : holder.leaseMs
          ? `The lock was taken on host ${holder.host}, whose run renews it every ${LEASE_RENEW_MS / 1000}s; if that machine is gone, it is taken over once it has gone ${holder.leaseMs / 1000}s without renewal.`
          : `The lock was taken on host ${holder.host}; remove ${path} only if that run is certainly over.`,
  )
}
