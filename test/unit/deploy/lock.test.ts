import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { acquireLock, type LockInfo, lockPath } from '../../../src/deploy/lock.js'
import { ExitCode, LockHeldError } from '../../../src/errors.js'
import { type Reporter, silentReporter } from '../../../src/progress.js'

function recordingReporter() {
  const warn = vi.fn<(message: string) => void>()
  const reporter: Reporter = { ...silentReporter, warn }
  return Object.assign(reporter, { warn })
}

function info(over: Partial<LockInfo> = {}): LockInfo {
  return { pid: process.pid, host: hostname(), by: 'alice@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z', ...over }
}

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  if (child.pid === undefined) throw new Error('no pid')
  return child.pid
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

let stateDir: string
beforeEach(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'berth-lock-')), '.berth')
})
afterEach(async () => {
  await rm(join(stateDir, '..'), { recursive: true, force: true })
})

describe('acquireLock', () => {
  it('writes the holder to a private lock file and release removes it', async () => {
    const release = await acquireLock(stateDir, 'staging', info(), silentReporter)
    const path = lockPath(stateDir, 'staging')
    expect(path).toBe(join(stateDir, 'staging', 'lock'))
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(info())
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(stateDir, 'staging'))).mode & 0o777).toBe(0o700)
    await release()
    expect(await exists(path)).toBe(false)
  })

  it('refuses a second run while the first holds the lock (exit 5, naming the holder)', async () => {
    const release = await acquireLock(stateDir, 'staging', info(), silentReporter)
    const reporter = recordingReporter()
    const error = await acquireLock(stateDir, 'staging', info({ by: 'bob@host', command: 'berth rollback staging' }), reporter).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    const e = error as LockHeldError
    expect(e.exitCode).toBe(ExitCode.locked)
    expect(e.exitCode).toBe(5)
    expect(e.code).toBe('LOCKED')
    expect(e.message).toContain('alice@host')
    expect(e.message).toContain(`pid ${process.pid}`)
    expect(e.message).toContain('berth deploy staging')
    expect(e.message).not.toContain('bob@host')
    expect(e.hint).toContain(String(process.pid))
    expect(reporter.warn).not.toHaveBeenCalled()
    // The holder's lock is untouched.
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8')).by).toBe('alice@host')
    await release()
  })

  it('a second release does not remove a lock another run took since', async () => {
    const release = await acquireLock(stateDir, 'staging', info(), silentReporter)
    await release()
    const releaseOther = await acquireLock(stateDir, 'staging', info({ by: 'bob@host' }), silentReporter)
    await release() // e.g. a signal handler and a finally block both releasing
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8')).by).toBe('bob@host')
    await releaseOther()
  })

  it('locks each environment on its own', async () => {
    const releaseStaging = await acquireLock(stateDir, 'staging', info(), silentReporter)
    const releaseProduction = await acquireLock(stateDir, 'production', info({ command: 'berth deploy production' }), silentReporter)
    await releaseStaging()
    expect(await exists(lockPath(stateDir, 'production'))).toBe(true)
    await releaseProduction()
  })

  it('takes over a lock whose process is gone, with a warning', async () => {
    const pid = await deadPid()
    await acquireLock(stateDir, 'staging', info(), silentReporter).then((release) => release()) // creates the directory
    await writeFile(lockPath(stateDir, 'staging'), JSON.stringify(info({ pid, by: 'carol@host', command: 'berth deploy staging' })), { mode: 0o600 })

    const reporter = recordingReporter()
    const release = await acquireLock(stateDir, 'staging', info({ by: 'bob@host' }), reporter)
    expect(reporter.warn).toHaveBeenCalledTimes(1)
    const warning = String(reporter.warn.mock.calls[0]?.[0])
    expect(warning).toContain('stale lock on staging')
    expect(warning).toContain('carol@host')
    expect(warning).toContain(`pid ${pid}`)
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8'))).toEqual(info({ by: 'bob@host' }))
    await release()
    expect(await exists(lockPath(stateDir, 'staging'))).toBe(false)
  })

  it('refuses a lock file being written right now (unreadable and fresh)', async () => {
    await acquireLock(stateDir, 'staging', info(), silentReporter).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), '{"pid": 12', { mode: 0o600 })
    const error = await acquireLock(stateDir, 'staging', info(), recordingReporter()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(String((error as Error).message)).toContain('being locked by another run')
  })

  it('takes over a half-written lock file left by a run killed while writing it', async () => {
    await acquireLock(stateDir, 'staging', info(), silentReporter).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), '{"pid": 12', { mode: 0o600 })
    const old = new Date(Date.now() - 60_000)
    await utimes(lockPath(stateDir, 'staging'), old, old)
    const reporter = recordingReporter()
    const release = await acquireLock(stateDir, 'staging', info(), reporter)
    expect(reporter.warn).toHaveBeenCalledTimes(1)
    await release()
  })

  it('never takes over a lock taken on another host, even if the pid is unknown here', async () => {
    const pid = await deadPid()
    await acquireLock(stateDir, 'staging', info(), silentReporter).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), JSON.stringify(info({ pid, host: 'other-host.example' })), { mode: 0o600 })
    const reporter = recordingReporter()
    const error = await acquireLock(stateDir, 'staging', info(), reporter).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect((error as LockHeldError).hint).toContain('other-host.example')
    expect(reporter.warn).not.toHaveBeenCalled()
  })
})
