import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { acquireLock, LEASE_MS, LEASE_RENEW_MS, type LockInfo, lockPath, parseLock, readLock } from '../../../src/state/lock.js'
import { ExitCode, LockHeldError, StateDamagedError } from '../../../src/errors.js'
import { type Reporter, silentReporter } from '../../../src/progress.js'
import { localRuns, localState } from '../../../src/target/local.js'

function recordingReporter() {
  const warn = vi.fn<(message: string) => void>()
  const reporter: Reporter = { ...silentReporter, warn }
  return Object.assign(reporter, { warn })
}

function info(over: Partial<LockInfo> = {}): LockInfo {
  return { pid: process.pid, host: hostname(), by: 'alice@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z', ...over }
}

/** What a run's lock file holds: the holder and its lease. */
function written(over: Partial<LockInfo> = {}): LockInfo {
  return { ...info(over), leaseMs: LEASE_MS }
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

/** Makes a lock file look as old as one nobody is writing any more. */
async function age(path: string): Promise<void> {
  const old = new Date(Date.now() - 60_000)
  await utimes(path, old, old)
}

describe('acquireLock', () => {
  it('writes the holder to a private lock file and release removes it', async () => {
    const release = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
    const path = lockPath(stateDir, 'staging')
    expect(path).toBe(join(stateDir, 'staging', 'lock'))
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(written())
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(stateDir, 'staging'))).mode & 0o777).toBe(0o700)
    await release()
    expect(await exists(path)).toBe(false)
  })

  it('refuses a second run while the first holds the lock (exit 5, naming the holder)', async () => {
    const release = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
    const reporter = recordingReporter()
    const error = await acquireLock(localState(stateDir), 'staging', info({ by: 'bob@host', command: 'berth rollback staging' }), reporter, localRuns()).catch((e: unknown) => e)
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
    const release = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
    await release()
    const releaseOther = await acquireLock(localState(stateDir), 'staging', info({ by: 'bob@host' }), silentReporter, localRuns())
    await release() // e.g. a signal handler and a finally block both releasing
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8')).by).toBe('bob@host')
    await releaseOther()
  })

  it('locks each environment on its own', async () => {
    const releaseStaging = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
    const releaseProduction = await acquireLock(localState(stateDir), 'production', info({ command: 'berth deploy production' }), silentReporter, localRuns())
    await releaseStaging()
    expect(await exists(lockPath(stateDir, 'production'))).toBe(true)
    await releaseProduction()
  })

  it('takes over a lock whose process is gone, with a warning', async () => {
    const pid = await deadPid()
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release()) // creates the directory
    await writeFile(lockPath(stateDir, 'staging'), JSON.stringify(info({ pid, by: 'carol@host', command: 'berth deploy staging' })), { mode: 0o600 })

    const reporter = recordingReporter()
    const release = await acquireLock(localState(stateDir), 'staging', info({ by: 'bob@host' }), reporter, localRuns())
    expect(reporter.warn).toHaveBeenCalledTimes(1)
    const warning = String(reporter.warn.mock.calls[0]?.[0])
    expect(warning).toContain('stale lock on staging')
    expect(warning).toContain('carol@host')
    expect(warning).toContain(`pid ${pid}`)
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8'))).toEqual(written({ by: 'bob@host' }))
    await release()
    expect(await exists(lockPath(stateDir, 'staging'))).toBe(false)
  })

  it('refuses a lock file being written right now (unreadable and fresh)', async () => {
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), '{"pid": 12', { mode: 0o600 })
    const error = await acquireLock(localState(stateDir), 'staging', info(), recordingReporter(), localRuns()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(String((error as Error).message)).toContain('being locked by another run')
  })

  it('refuses an empty lock file while it may still be being written', async () => {
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), '', { mode: 0o600 })
    const error = await acquireLock(localState(stateDir), 'staging', info(), recordingReporter(), localRuns()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(String((error as Error).message)).toContain('being locked by another run')
  })

  it('takes over an empty lock file left by a run killed between creating and writing it', async () => {
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), '', { mode: 0o600 })
    await age(lockPath(stateDir, 'staging'))
    const reporter = recordingReporter()
    const release = await acquireLock(localState(stateDir), 'staging', info(), reporter, localRuns())
    expect(reporter.warn).toHaveBeenCalledTimes(1)
    expect(String(reporter.warn.mock.calls[0]?.[0])).toContain('an empty lock file, left by a run killed while taking it')
    expect(JSON.parse(await readFile(lockPath(stateDir, 'staging'), 'utf8'))).toEqual(written())
    await release()
  })

  it.each([
    ['cut short', '{"pid": 12', 'not valid JSON: it ends before the JSON does (cut short)'],
    ['of the wrong shape', '{"pid": "12", "host": "h", "by": "b", "command": "c", "startedAt": "s"}', 'pid: expected a process id'],
    ['not JSON at all', 'held by alice', 'not valid JSON'],
  ])('refuses an old lock file %s (exit 2, naming it), and neither takes it over nor removes it', async (_name, content, problem) => {
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    const path = lockPath(stateDir, 'staging')
    await writeFile(path, content, { mode: 0o600 })
    await age(path)
    const reporter = recordingReporter()
    const error = await acquireLock(localState(stateDir), 'staging', info(), reporter, localRuns()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateDamagedError)
    const e = error as StateDamagedError
    expect(e).toMatchObject({ code: 'STATE_DAMAGED', exitCode: ExitCode.usage, file: path, problem })
    expect(e.message).toBe(`${path} is damaged: ${problem}; nothing was changed`)
    expect(e.hint).toBe(`berth cannot tell which run holds it. If no berth run of staging is going on, remove it: rm ${path}`)
    expect(e.message).not.toContain('alice')
    expect(await readFile(path, 'utf8')).toBe(content)
    expect(reporter.warn).not.toHaveBeenCalled()
  })

  it("takes over another machine's lock once it has gone unrenewed for its lease, and not before", async () => {
    const path = lockPath(stateDir, 'staging')
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    await writeFile(path, JSON.stringify(written({ pid: 4242, host: 'laptop.example', by: 'bob@laptop' })), { mode: 0o600 })
    const fresh = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).catch((e: unknown) => e)
    expect(fresh).toBeInstanceOf(LockHeldError)
    expect((fresh as LockHeldError).hint).toBe(
      'The lock was taken on host laptop.example, whose run renews it every 5s; if that machine is gone, it is taken over once it has gone 60s without renewal.',
    )

    const old = new Date(Date.now() - LEASE_MS - 5000)
    await utimes(path, old, old)
    const reporter = recordingReporter()
    const release = await acquireLock(localState(stateDir), 'staging', info(), reporter, localRuns())
    expect(reporter.warn).toHaveBeenCalledWith(expect.stringMatching(/^taking over a stale lock on staging left by bob@laptop \(pid 4242, .*\), on host laptop\.example, not renewed for 6[45]s \(that machine went down or lost its connection\)$/))
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(written())
    await release()
  })

  it('renews its own lock while held, and never a lock another run took over meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const path = lockPath(stateDir, 'staging')
      const release = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
      const old = new Date(Date.now() - 30_000)
      await utimes(path, old, old)
      vi.advanceTimersByTime(LEASE_RENEW_MS)
      await vi.waitFor(async () => expect(Date.now() - (await stat(path)).mtimeMs).toBeLessThan(5000), { interval: 20, timeout: 2000 })

      // Taken over by another run (this one lost its connection for longer than the lease): left alone.
      await writeFile(path, JSON.stringify(written({ by: 'bob@laptop', host: 'laptop.example' })), { mode: 0o600 })
      await utimes(path, old, old)
      vi.advanceTimersByTime(LEASE_RENEW_MS)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(Math.round((await stat(path)).mtimeMs / 1000)).toBe(Math.round(old.getTime() / 1000))
      // Nor is it removed by this run's release.
      await release()
      expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ by: 'bob@laptop' })
    } finally {
      vi.useRealTimers()
    }
  })

  it('never takes over a lock taken on another host without a lease, even if the pid is unknown here', async () => {
    const pid = await deadPid()
    await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns()).then((release) => release())
    await writeFile(lockPath(stateDir, 'staging'), JSON.stringify(info({ pid, host: 'other-host.example' })), { mode: 0o600 })
    const reporter = recordingReporter()
    const error = await acquireLock(localState(stateDir), 'staging', info(), reporter, localRuns()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect((error as LockHeldError).hint).toContain('other-host.example')
    expect(reporter.warn).not.toHaveBeenCalled()
  })
})

describe('readLock and parseLock', () => {
  it('reads the holder, nothing for no lock or an empty one, and throws for a damaged one', async () => {
    expect(await readLock(localState(stateDir), 'staging')).toBeUndefined()
    const release = await acquireLock(localState(stateDir), 'staging', info(), silentReporter, localRuns())
    expect(await readLock(localState(stateDir), 'staging')).toEqual(written())
    await release()
    await writeFile(lockPath(stateDir, 'staging'), '', { mode: 0o600 })
    expect(await readLock(localState(stateDir), 'staging')).toBeUndefined()
    await writeFile(lockPath(stateDir, 'staging'), '[]', { mode: 0o600 })
    await expect(readLock(localState(stateDir), 'staging')).rejects.toMatchObject({ code: 'STATE_DAMAGED', problem: 'top level: expected a mapping, got a list' })
  })

  it('tells an empty lock from a damaged one', () => {
    expect(parseLock('')).toEqual({ empty: true })
    expect(parseLock(' \n')).toEqual({ problem: 'the file is empty' })
    expect(parseLock(JSON.stringify(info()))).toEqual({ holder: info() })
    expect(parseLock('{"host": "h"}')).toEqual({ problem: 'pid: is required; by: is required; command: is required (and 1 more)' })
  })
})
