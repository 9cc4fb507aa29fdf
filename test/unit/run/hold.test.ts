import { utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LEASE_MS } from '../../../src/state/lock.js'
import { describe, expect, it } from 'vitest'

import { LockHeldError } from '../../../src/errors.js'
import { deploy } from '../../../src/run/deploy.js'
import { hold, lockStatus, unhold } from '../../../src/run/hold.js'
import { sourceModelJson, useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { COMPOSE_VERSION, DOCKER_VERSION, expectSequence, fakeRunner } from '../support/fakeRunner.js'
import { auditOf, givenLock, lockOf } from '../support/state.js'

const app = useTestApp()

/** Deps for hold and unhold, which run no command. */
const noEngine = () => flowDeps(app.config, fakeRunner().run).deps

describe('hold', () => {
  it('holds the lock by hand with its message until unlocked, and audits it', async () => {
    const status = await hold(app.config, 'staging', 'release freeze', 'berth lock staging -m "release freeze"', noEngine())

    expect(status).toMatchObject({ environment: 'staging', locked: true, holder: { manual: true, message: 'release freeze', stale: false } })
    expect(status.holder?.description).toMatch(/^.+@.+ \(held by hand since 2026-11-22T10:00:00.000Z: "release freeze"\)$/)
    expect(await lockOf(app.config, 'staging')).toMatchObject({ pid: process.pid, manual: true, message: 'release freeze', command: 'berth lock staging -m "release freeze"' })
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'lock', at: '2026-11-22T10:00:00.000Z', result: 'ok', message: 'release freeze' }])
    expect(await lockStatus(app.config, 'staging', noEngine())).toMatchObject({ locked: true, holder: { manual: true } })
  })

  it('is refused while another holds the lock (exit 5)', async () => {
    await hold(app.config, 'staging', 'first', 'berth lock staging', noEngine())
    await expect(hold(app.config, 'staging', 'second', 'berth lock staging', noEngine())).rejects.toMatchObject({ code: 'LOCKED', exitCode: 5 })
    expect((await lockOf(app.config, 'staging'))?.message).toBe('first')
  })

  it('makes a deploy exit 5 once its checks pass: nothing after them runs', async () => {
    await hold(app.config, 'staging', 'release freeze', 'berth lock staging', noEngine())
    const runner = fakeRunner()
      .expect('git describe', { stdout: 'v1\n' })
      .expect('docker version', DOCKER_VERSION)
      .expect('docker compose version', COMPOSE_VERSION)
      .expect('docker compose -p shop-staging config --format json', { stdout: sourceModelJson() })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await deploy({ config: app.config, envName: 'staging', confirm: async () => true, command: 'berth deploy staging' }, deps).catch((e: unknown) => e)

    expectSequence(runner, ['git describe', 'docker version', 'docker compose version', 'docker compose -p shop-staging config --format json'])
    expect(error).toBeInstanceOf(LockHeldError)
    expect(error).toMatchObject({ exitCode: 5, message: expect.stringContaining('"release freeze"') as unknown })
    expect((await auditOf(app.config, 'staging')).map((a) => a.action)).toEqual(['lock'])
  })
})

describe('unhold', () => {
  it('releases a hold taken by hand, and audits who held it', async () => {
    await hold(app.config, 'staging', 'release freeze', 'berth lock staging', noEngine())

    const status = await unhold(app.config, 'staging', noEngine())

    expect(status).toMatchObject({ environment: 'staging', locked: false, released: expect.stringContaining('"release freeze"') as unknown })
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'lock' }, { action: 'unlock', result: 'ok', message: `released ${status.released}` }])
  })

  it('changes nothing and audits nothing when nothing holds the lock', async () => {
    expect(await unhold(app.config, 'staging', noEngine())).toEqual({ environment: 'staging', locked: false })
    expect(await auditOf(app.config, 'staging')).toEqual([])
  })

  it("refuses to release the lock of a run that is still going (exit 5), and keeps it", async () => {
    const running = { pid: process.pid, host: hostname(), by: 'bob@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:59:00.000Z' }
    await givenLock(app.config, 'staging', running)

    await expect(unhold(app.config, 'staging', noEngine())).rejects.toMatchObject({ code: 'LOCKED', exitCode: 5, hint: `Wait for it to finish, or stop pid ${process.pid}.` })
    expect(await lockOf(app.config, 'staging')).toEqual({ ...running, leaseMs: LEASE_MS })
  })

  it("releases a stale run's lock, which status shows as stale rather than locked", async () => {
    // Above Linux's highest pid (2^22): no process has it.
    await givenLock(app.config, 'staging', { pid: 2 ** 22 + 1, host: hostname(), by: 'bob@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:00:00.000Z' })
    expect(await lockStatus(app.config, 'staging', noEngine())).toMatchObject({ locked: false, holder: { stale: true } })

    expect((await unhold(app.config, 'staging', noEngine())).released).toContain('pid 4194305')
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
  })

  it("judges another machine's run by its lease: locked while renewed, stale once it has gone unrenewed for longer", async () => {
    await givenLock(app.config, 'staging', { pid: 4242, host: 'laptop.example', by: 'carol@laptop', command: 'berth deploy staging', startedAt: '2026-11-22T09:00:00.000Z' })
    expect(await lockStatus(app.config, 'staging', noEngine())).toMatchObject({ locked: true, holder: { stale: false, leaseMs: LEASE_MS } })
    const path = join(app.config.stateDir, 'staging', 'lock')
    const old = new Date(Date.now() - LEASE_MS - 1000)
    await utimes(path, old, old)
    expect(await lockStatus(app.config, 'staging', noEngine())).toMatchObject({ locked: false, holder: { stale: true } })
  })
})
