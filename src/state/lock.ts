import { hostname } from 'node:os'
import { open, readFile, rm, stat } from 'node:fs/promises'

import { z } from 'zod'

import { LockHeldError, StateDamagedError } from '../errors.js'
import type { Reporter } from '../progress.js'
import { ensurePrivateDir, parseState, shellWord, unlessMissing } from './files.js'
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
}

export function lockPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).lock
}

/** A lock file younger than this that cannot be read is being written, not abandoned. */
const FRESH_MS = 5000

const lockSchema: z.ZodType<LockInfo> = z.looseObject({
  pid: z.int(unlessMissing('expected a process id')).positive('expected a process id'),
  host: z.string(),
  by: z.string(),
  command: z.string(),
  startedAt: z.string(),
  manual: z.boolean().optional(),
  message: z.string().optional(),
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

async function ageMs(path: string): Promise<number> {
  return Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs
}

/**
 * Removes a stale lock only if it still holds what was judged stale. The check-and-remove is serialized by
 * a short-lived guard file, so of two runs that saw the same dead holder, the second finds the first's
 * fresh lock instead of deleting it.
 */
async function removeIfUnchanged(path: string, staleContent: string): Promise<boolean> {
  const guard = `${path}.takeover`
  try {
    await (await open(guard, 'wx', 0o600)).close()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const age = Date.now() - (await stat(guard).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    if (age > FRESH_MS) await rm(guard, { force: true }) // left by a run killed mid-takeover
    return false
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined)
    if (now !== staleContent) return false
    await rm(path, { force: true })
    return true
  } finally {
    await rm(guard, { force: true })
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function describeHolder(info: LockInfo): string {
  if (info.manual) return `${info.by} (held by hand since ${info.startedAt}${info.message ? `: "${info.message}"` : ''})`
  return `${info.by} (pid ${info.pid}, "${info.command}", since ${info.startedAt})`
}

export function isStale(info: LockInfo): boolean {
  return !info.manual && info.host === hostname() && !alive(info.pid)
}

/** The holder; undefined when there is no lock or only an empty one. A damaged lock throws StateDamagedError. */
export async function readLock(stateDir: string, env: string): Promise<LockInfo | undefined> {
  const path = lockPath(stateDir, env)
  let content: LockContent
  try {
    content = parseLock(await readFile(path, 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  if ('problem' in content) throw damagedLock(path, env, content.problem)
  return 'holder' in content ? content.holder : undefined
}

/** Removes a hold taken by hand, or a stale lock; never the lock of a run that is still going. */
export async function releaseHold(stateDir: string, env: string): Promise<LockInfo | undefined> {
  const holder = await readLock(stateDir, env)
  if (!holder) return undefined
  if (!holder.manual && !isStale(holder)) {
    throw new LockHeldError(`${env} is locked by a running ${describeHolder(holder)}, not by hand`, `Wait for it to finish, or stop pid ${holder.pid}.`)
  }
  await rm(lockPath(stateDir, env), { force: true })
  return holder
}

/**
 * SPEC §7: one lock per environment, created with O_EXCL so two runs can never both hold it. A lock whose
 * process is gone (SIGKILL, reboot) is taken over with a warning. Returns the release function.
 */
export async function acquireLock(stateDir: string, env: string, info: LockInfo, reporter: Reporter): Promise<() => Promise<void>> {
  const path = lockPath(stateDir, env)
  await ensurePrivateDir(environmentPaths(stateDir, env).dir)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${JSON.stringify(info)}\n`)
      } catch (error) {
        // A full disk must not leave a half-written lock behind, which nobody could judge.
        await handle.close()
        await rm(path, { force: true })
        throw error
      }
      await handle.close()
      let held = true
      // Once only: a second call after another run took the lock must not remove theirs.
      return async () => {
        if (!held) return
        held = false
        await rm(path, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    let content: string
    try {
      content = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // released meanwhile
      throw error
    }
    const parsed = parseLock(content)
    const holder = 'holder' in parsed ? parsed.holder : undefined
    if (!holder && (await ageMs(path)) < FRESH_MS) {
      throw new LockHeldError(`${env} is being locked by another run at this moment`, 'Try again in a few seconds.')
    }
    if ('problem' in parsed) throw damagedLock(path, env, parsed.problem)
    if (holder && !isStale(holder)) {
      throw new LockHeldError(
        `${env} is locked by ${describeHolder(holder)}`,
        holder.manual
          ? `Release the hold with: berth unlock ${env}`
          : holder.host === hostname()
          ? `Wait for that run to finish. If it is stuck, stop pid ${holder.pid}; the lock is then taken over.`
          : `The lock was taken on host ${holder.host}; remove ${path} only if that run is certainly over.`,
      )
    }
    if (await removeIfUnchanged(path, content)) {
      reporter.warn(`taking over a stale lock on ${env}${holder ? ` left by ${describeHolder(holder)}, whose process is gone` : ': an empty lock file, left by a run killed while taking it'}`)
    }
  }
  throw new LockHeldError(`${env} is locked: another run took the lock at the same moment`, 'Try again.')
}
