import { hostname } from 'node:os'
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { LockHeldError } from '../errors.js'
import type { Reporter } from '../progress.js'
import { ensurePrivateDir } from './stateFiles.js'

export interface LockInfo {
  pid: number
  host: string
  by: string
  command: string
  startedAt: string
}

export function lockPath(stateDir: string, env: string): string {
  return join(stateDir, env, 'lock')
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function describeHolder(info: LockInfo): string {
  return `${info.by} (pid ${info.pid}, "${info.command}", since ${info.startedAt})`
}

/**
 * SPEC §7: one lock per environment, created with O_EXCL so two runs can never both hold it. A lock whose
 * process is gone (SIGKILL, reboot) is taken over with a warning. Returns the release function.
 */
export async function acquireLock(stateDir: string, env: string, info: LockInfo, reporter: Reporter): Promise<() => Promise<void>> {
  const path = lockPath(stateDir, env)
  await ensurePrivateDir(join(stateDir, env))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(`${JSON.stringify(info)}\n`)
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
    let holder: LockInfo | undefined
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as LockInfo
    } catch {
      holder = undefined // half-written by a run killed at that instant: stale
    }
    if (holder && (holder.host !== hostname() || alive(holder.pid))) {
      throw new LockHeldError(
        `${env} is locked by ${describeHolder(holder)}`,
        holder.host === hostname()
          ? `Wait for that run to finish. If it is stuck, stop pid ${holder.pid}; the lock is then taken over.`
          : `The lock was taken on host ${holder.host}; remove ${path} only if that run is certainly over.`,
      )
    }
    reporter.warn(`taking over a stale lock on ${env}${holder ? ` left by ${describeHolder(holder)}, whose process is gone` : ''}`)
    await rm(path, { force: true })
  }
  throw new LockHeldError(`${env} is locked: another run took the lock at the same moment`, 'Try again.')
}
