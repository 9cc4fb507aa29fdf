import { hostname } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { ConfigError, LockHeldError, NeedsPersonError, RolledBackError } from '../../../src/errors.js'
import { hold } from '../../../src/run/hold.js'
import { lockedRun, type RunOutcome, type RunProgress } from '../../../src/run/lockedRun.js'
import { environmentOf, useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { expectSequence, fakeRunner } from '../support/fakeRunner.js'
import { auditOf, givenLock, lockOf } from '../support/state.js'

const app = useTestApp()

afterEach(() => {
  vi.restoreAllMocks()
})

/** A run of staging, with deps whose runner expects no command at all: the frame itself runs none. */
function run(command = 'berth deploy staging') {
  const runner = fakeRunner()
  const { deps, told } = flowDeps(app.config, runner.run)
  return { runner, told, frame: { config: app.config, env: environmentOf(app.config, 'staging'), action: 'deploy' as const, command, deps } }
}

describe('lockedRun', () => {
  it('holds the lock while the body runs, then audits the outcome with what the body reported and releases the lock', async () => {
    const { runner, frame } = run()
    const result = await lockedRun(frame, async (progress) => {
      progress.tag = '20261122-100000'
      progress.from = '20261121-090000'
      expect(await lockOf(app.config, 'staging')).toMatchObject({ pid: process.pid, host: hostname(), command: 'berth deploy staging', startedAt: '2026-11-22T10:00:00.000Z' })
      return 'done'
    })

    expect(result).toBe('done')
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
    expect(await auditOf(app.config, 'staging')).toEqual([
      { action: 'deploy', by: expect.stringContaining('@') as unknown, at: '2026-11-22T10:00:00.000Z', tag: '20261122-100000', from: '20261121-090000', result: 'ok', durationMs: 100 },
    ])
    expectSequence(runner, [])
  })

  it("audits a berth error by its code and message, rethrows it, and releases the lock", async () => {
    const { frame } = run()
    const failure = new RolledBackError('staging 20261122-100000 is not healthy; rolled back')

    await expect(lockedRun(frame, async () => Promise.reject(failure))).rejects.toBe(failure)

    expect(await auditOf(app.config, 'staging')).toMatchObject([{ result: 'ROLLED_BACK', message: 'staging 20261122-100000 is not healthy; rolled back' }])
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
  })

  it('audits any other error as UNEXPECTED', async () => {
    const { frame } = run()
    await expect(lockedRun(frame, async () => Promise.reject(new TypeError('x is undefined')))).rejects.toThrow('x is undefined')
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ result: 'UNEXPECTED', message: 'x is undefined' }])
  })

  it('refuses while another holds the lock (exit 5): the body never runs and nothing is audited', async () => {
    const { deps } = flowDeps(app.config, fakeRunner().run)
    await hold(app.config, 'staging', 'release freeze', 'berth lock staging', deps)
    const { frame } = run()
    const body = vi.fn(async () => {})

    const error = await lockedRun(frame, body).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(LockHeldError)
    expect(error).toMatchObject({ exitCode: 5, hint: 'Release the hold with: berth unlock staging' })
    expect(body).not.toHaveBeenCalled()
    expect((await auditOf(app.config, 'staging')).map((a) => a.action)).toEqual(['lock'])
  })

  it('takes over the lock of a run whose process is gone, saying so', async () => {
    // Above Linux's highest pid (2^22): no process has it.
    await givenLock(app.config, 'staging', { pid: 2 ** 22 + 1, host: hostname(), by: 'bob@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:00:00.000Z' })
    const { frame, told } = run()

    await lockedRun(frame, async () => {})

    expect(told.warnings).toEqual([expect.stringMatching(/^taking over a stale lock on staging left by bob@host \(pid 4194305/)])
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
  })

  it('on a signal: records what the body left, audits INTERRUPTED, releases the lock and tells the operator, then exits 1', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const { frame, told } = run()
    let finish = () => {}
    const left: string[] = []
    const running = lockedRun(frame, async (progress: RunProgress) => {
      progress.tag = '20261122-100000'
      progress.onInterrupt = async (signal) => {
        left.push(signal)
        return 'release 20261122-100000 is recorded as failed'
      }
      await new Promise<void>((resolve) => (finish = resolve))
    })
    await vi.waitFor(async () => expect(await lockOf(app.config, 'staging')).toBeDefined())

    process.emit('SIGHUP', 'SIGHUP')
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))

    expect(left).toEqual(['SIGHUP'])
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
    expect((await auditOf(app.config, 'staging'))[0]).toMatchObject({ action: 'deploy', tag: '20261122-100000', result: 'INTERRUPTED', message: 'SIGHUP' })
    expect(told.warnings).toEqual(['deploy of staging interrupted by SIGHUP: release 20261122-100000 is recorded as failed; the lock is released. Check with: berth status staging'])
    // process.exit is stubbed: let the body end, so the run stops listening for signals.
    finish()
    await running
  })
})

describe('lockedRun: how the run ended (webhooks)', () => {
  /** A frame whose `ended` records each outcome, with whether the lock was still held when it was told. */
  function telling() {
    const { frame, told } = run()
    const outcomes: (RunOutcome & { locked: boolean })[] = []
    const ended = async (outcome: RunOutcome) => {
      outcomes.push({ ...outcome, locked: (await lockOf(app.config, 'staging')) !== undefined })
    }
    return { frame: { ...frame, ended }, outcomes, told }
  }

  it('tells ok, with the tags the body reported, once the lock is released', async () => {
    const { frame, outcomes } = telling()
    await lockedRun(frame, async (progress) => {
      progress.tag = '20261122-100000'
      progress.from = '20261121-090000'
    })
    expect(outcomes).toEqual([
      {
        action: 'deploy',
        result: 'ok',
        tag: '20261122-100000',
        from: '20261121-090000',
        by: expect.stringContaining('@') as unknown,
        startedAt: '2026-11-22T10:00:00.000Z',
        durationMs: expect.any(Number) as unknown,
        locked: false,
      },
    ])
  })

  it.each([
    ['rolled-back (exit 3)', new RolledBackError('not healthy; rolled back to 20261121-090000'), 'rolled-back'],
    ['needs-person (exit 4)', new NeedsPersonError('not healthy, and the rollback failed too'), 'needs-person'],
    ['failed (a berth error of another exit code)', new ConfigError('bad'), 'failed'],
    ['failed (anything unexpected)', new TypeError('x is undefined'), 'failed'],
  ])('tells %s with the reason, and rethrows the error', async (_name, error, result) => {
    const { frame, outcomes } = telling()
    await expect(lockedRun(frame, async () => Promise.reject(error))).rejects.toBe(error)
    expect(outcomes).toMatchObject([{ result, reason: error.message, locked: false }])
  })

  it('tells nothing when another run holds the lock: this one did nothing', async () => {
    const { deps } = flowDeps(app.config, fakeRunner().run)
    await hold(app.config, 'staging', 'release freeze', 'berth lock staging', deps)
    const { frame, outcomes } = telling()
    await expect(lockedRun(frame, async () => {})).rejects.toBeInstanceOf(LockHeldError)
    expect(outcomes).toEqual([])
  })

  it('on a signal, tells failed once, after the lock is released, even when the body fails meanwhile', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const { frame, outcomes } = telling()
    let fail = (_error: Error) => {}
    const running = lockedRun(frame, async (progress: RunProgress) => {
      progress.tag = '20261122-100000'
      progress.onInterrupt = async () => 'release 20261122-100000 is recorded as failed'
      await new Promise<void>((_resolve, reject) => (fail = reject))
    })
    await vi.waitFor(async () => expect(await lockOf(app.config, 'staging')).toBeDefined())

    process.emit('SIGTERM', 'SIGTERM')
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))
    fail(new Error('docker compose up was killed'))
    await expect(running).rejects.toThrow('killed')

    expect(outcomes).toMatchObject([{ result: 'failed', tag: '20261122-100000', reason: 'interrupted by SIGTERM: release 20261122-100000 is recorded as failed', locked: false }])
  })
})
