import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { lockCheck, readLocks } from '../../../../src/doctor/checks/locks.js'
import { localFiles } from '../../../../src/target/files.js'
import { localState } from '../../../../src/target/local.js'
import { type LockInfo, lockPath } from '../../../../src/state/lock.js'
import type { RunIdentity } from '../../../../src/target/target.js'

/** berth running on `host`, where `isAlive` says which pids run; a holder on another host cannot be judged. */
const runsOn = (host: string, isAlive: (pid: number) => boolean): Pick<RunIdentity, 'alive'> => ({ alive: (holder) => (holder.host === host ? isAlive(holder.pid) : undefined) })

describe('lockCheck', () => {
  const info = (over: Partial<LockInfo>): LockInfo => ({ pid: 4242, host: 'web1', by: 'alice@web1', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z', ...over })

  it('warns about a lock whose process is gone on this host, or that never got written whole', () => {
    const check = lockCheck(
      [
        { env: 'staging', path: '/s/.berth/staging/lock', info: info({}) },
        { env: 'production', path: '/s/.berth/production/lock' },
      ],
      runsOn('web1', () => false),
    )
    expect(check.status).toBe('warn')
    expect(check.summary).toBe('2 stale locks')
    expect(check.details[0]).toBe('staging: stale lock left by alice@web1 (pid 4242, "berth deploy staging", since 2026-11-22T09:30:00.000Z), whose process is gone')
    expect(check.hint).toContain('rm /s/.berth/staging/lock /s/.berth/production/lock')
  })

  it('is ok with a live holder, and cannot judge a lock taken on another host', () => {
    expect(lockCheck([{ env: 'staging', path: '/l', info: info({}) }], runsOn('web1', () => true))).toMatchObject({ status: 'ok', details: [expect.stringContaining('running now')] })
    expect(lockCheck([{ env: 'staging', path: '/l', info: info({ host: 'web2' }) }], runsOn('web1', () => false)).summary).toBe('1 lock taken on another host')
    expect(lockCheck([], runsOn('web1', () => false))).toMatchObject({ status: 'ok', summary: 'no environment is locked' })
  })
})

describe('lockCheck of holds and leases', () => {
  const info = (over: Partial<LockInfo>): LockInfo => ({ pid: 4242, host: 'web1', by: 'alice@web1', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z', ...over })

  it('reports a hold taken by hand as held, never stale, though the berth lock process that took it is gone', () => {
    const check = lockCheck([{ env: 'production', path: '/l', info: info({ manual: true, message: 'freeze' }) }], runsOn('web1', () => false))
    expect(check).toMatchObject({ status: 'ok', summary: '1 lock: 1 held by hand' })
    expect(check.details).toEqual(['production: held by alice@web1 (held by hand since 2026-11-22T09:30:00.000Z: "freeze"); deploys and rollbacks exit 5 until berth unlock production'])
  })

  it("judges another machine's leased lock by how long ago it was renewed (SPEC §10)", () => {
    const leased = info({ host: 'laptop', leaseMs: 60_000 })
    const renewed = lockCheck([{ env: 'production', path: '/l', info: leased, ageMs: 3_000 }], runsOn('web1', () => false))
    expect(renewed).toMatchObject({ status: 'ok', details: [expect.stringMatching(/^production: locked on host laptop by .*, renewed 3s ago \(its lease is 60s\)$/)] })
    const abandoned = lockCheck([{ env: 'production', path: '/l', info: leased, ageMs: 90_000 }], runsOn('web1', () => false))
    expect(abandoned).toMatchObject({ status: 'warn', summary: '1 stale lock', hint: expect.stringContaining('rm /l') as unknown })
    expect(abandoned.details[0]).toMatch(/^production: stale lock left on host laptop by .*, last renewed 90s ago/)
  })
})

describe('readLocks', () => {
  let stateDir: string
  beforeEach(async () => {
    stateDir = join(await mkdtemp(join(tmpdir(), 'berth-locks-')), '.berth')
  })
  afterEach(async () => {
    await rm(join(stateDir, '..'), { recursive: true, force: true })
  })

  const lock = async (env: string, content: string) => {
    await localFiles.privateDir(join(stateDir, env))
    await writeFile(lockPath(stateDir, env), content)
  }

  it('reads each lock through the lock reader: a holder, an empty file; not a damaged one (the state check reports it), nor none', async () => {
    const holder: LockInfo = { pid: 4242, host: 'web1', by: 'alice@web1', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z' }
    await lock('staging', JSON.stringify(holder))
    await lock('production', '')
    await lock('preview', '{"pid": "x"}')
    await lock('qa', JSON.stringify({ ...holder, host: 'laptop', leaseMs: 60_000 }))
    const [qa] = await readLocks(localState(stateDir), ['qa'])
    // A leased lock's age is read, by this machine's clock here: just written.
    expect(qa?.ageMs).toBeGreaterThanOrEqual(0)
    expect(qa?.ageMs).toBeLessThan(5_000)
    expect(await readLocks(localState(stateDir), ['preview', 'production', 'review', 'staging'])).toEqual([
      { env: 'production', path: lockPath(stateDir, 'production') },
      { env: 'staging', path: lockPath(stateDir, 'staging'), info: holder },
    ])
  })
})
