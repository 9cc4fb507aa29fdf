import { hostname } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { LockHeldError, RolledBackError } from '../../../src/errors.js'
import { hold } from '../../../src/run/hold.js'
import { lockedRun, type RunProgress } from '../../../src/run/lockedRun.js'
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
