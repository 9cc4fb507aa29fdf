import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, appStateHere, httpGet, requireEngine, startBerth } from './engine.js'
import { cleanAppB, engineStateB, HOST_B_ADDR, HOST_STATE_ROOT, remoteFixture, requireHostB, sshdPid, sshMastersOf, startSecondHost } from './hostB.js'

/**
 * SPEC §10 when things go wrong between two machines: two operators' checkouts sharing one lock and one
 * history on the host, a stale lock of a machine that is gone, a host that cannot be reached or refuses the
 * login, and a connection dropped in the middle of a deploy.
 */

const APP = 'berthremotef'
const ENVS = ['staging', 'production']
const PORTS = { staging: 18981, production: 18982 }
let alice: string
let bob: string
let version = 0

function bump(dir: string): string {
  writeFileSync(join(dir, 'web', 'www', 'version'), `v${++version}\n`)
  return `v${version}`
}

function releases(dir: string): { tag: string; status: string }[] {
  const r = berth(dir, ['releases', 'production', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { releases: { tag: string; status: string }[] }).releases
}

function slowStart(dir: string, seconds: number): () => void {
  const file = join(dir, 'env', 'production.env')
  const original = readFileSync(file, 'utf8')
  writeFileSync(file, `${original}STARTUP_DELAY=${seconds}\n`)
  return () => writeFileSync(file, original)
}

/** A copy of deploy.yml whose production is somewhere else: `-c` of the failure cases. */
function elsewhere(dir: string, name: string, host: string, timeout = '5s'): string {
  const file = join(dir, `${name}.yml`)
  writeFileSync(file, readFileSync(join(dir, 'deploy.yml'), 'utf8').replace(/^    host: .*\n    connect_timeout: .*$/m, `    host: ${host}\n    connect_timeout: ${timeout}`))
  return file
}

const lockOnHost = join(HOST_STATE_ROOT, APP, 'production', 'lock')
const version_ = async () => (await httpGet(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).body.trim()

describe('two machines, one host: failures and sharing', () => {
  beforeAll(() => {
    requireEngine()
    requireHostB()
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
    // Two operators, each with their own checkout of the same app.
    alice = remoteFixture(APP, PORTS)
    bob = remoteFixture(APP, PORTS)
    bump(alice)
    const first = berth(alice, ['deploy', 'production'])
    expect(first.code, first.stderr).toBe(0)
  }, 120_000)

  afterAll(() => {
    startSecondHost()
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
  })

  it("share one lock and one history: the second run exits 5 naming the first, and each can roll back the other's release", async () => {
    expect(releases(bob)).toEqual(releases(alice))
    const restore = slowStart(alice, 4)
    const v = bump(alice)
    try {
      const running = startBerth(alice, ['deploy', 'production'])
      await running.waitFor(/apply \d{8}-\d{6} to/)
      const refused = berth(bob, ['deploy', 'production'])
      expect(refused.code, refused.stderr).toBe(5)
      expect(refused.stderr).toMatch(new RegExp(`production is locked by .*@${hostname()} \\(pid ${running.pid}, "berth deploy production", since `))
      const done = await running.done
      expect(done.code, done.stderr).toBe(0)
    } finally {
      restore()
    }
    expect(await version_()).toBe(v)
    const [latest, earlier] = releases(bob)
    expect(latest?.status).toBe('active')
    // Bob rolls back Alice's release; Alice sees it.
    const back = berth(bob, ['rollback', 'production', '--to', earlier?.tag ?? ''])
    expect(back.code, back.stderr).toBe(0)
    expect(releases(alice).find((r) => r.status === 'active')?.tag).toBe(earlier?.tag)
    expect(await version_()).toBe(`v${version - 1}`)
    const audit = readFileSync(join(HOST_STATE_ROOT, APP, 'production', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string })
    expect(audit.map((a) => `${a.action} ${a.result}`)).toEqual(['deploy ok', 'deploy ok', 'rollback ok'])
  }, 120_000)

  it("takes over the lock of a machine that is gone once its lease has run out, and not before", () => {
    const holder = { pid: 4242, host: 'laptop.example', by: 'carol@laptop.example', command: 'berth deploy production', startedAt: '2026-12-01T09:00:00.000Z', leaseMs: 60_000 }
    writeFileSync(lockOnHost, `${JSON.stringify(holder)}\n`, { mode: 0o600 })
    const held = berth(alice, ['deploy', 'production'])
    expect(held.code, held.stderr).toBe(5)
    expect(held.stderr).toContain('production is locked by carol@laptop.example (pid 4242')
    expect(held.stderr).toContain('taken over once it has gone 60s without renewal')

    const old = new Date(Date.now() - 120_000)
    utimesSync(lockOnHost, old, old)
    bump(alice)
    const taken = berth(alice, ['deploy', 'production'])
    expect(taken.code, taken.stderr).toBe(0)
    expect(taken.stderr).toMatch(/taking over a stale lock on production left by carol@laptop\.example .*, on host laptop\.example, not renewed for 1[12]\ds/)
    expect(existsSync(lockOnHost)).toBe(false)
  }, 120_000)

  it('ends in exit 6 within connect_timeout, naming the host and what failed, with nothing changed, when sshd is down; status still shows staging', () => {
    const before = { here: appStateHere(join(alice, '.berth'), APP), hostB: engineStateB(APP) }
    process.kill(sshdPid(), 'SIGTERM')
    try {
      const started = Date.now()
      const deploy = berth(alice, ['deploy', 'production'])
      expect(deploy.code, deploy.stderr).toBe(6)
      expect(Date.now() - started).toBeLessThan(5000 + 3000)
      expect(deploy.stderr).toContain('error: cannot reach ssh://root@10.231.0.2: the connection was refused (is sshd running there, on that port?)')
      const status = berth(alice, ['status'])
      expect(status.code).toBe(6)
      expect(status.stdout).toMatch(/^staging \(berthremotef-staging\) on the local engine: no release deployed$/m)
      expect(status.stdout).toMatch(/^production \(berthremotef-production\) on ssh:\/\/root@10\.231\.0\.2: UNREACHABLE: cannot reach ssh:\/\/root@10\.231\.0\.2: the connection was refused/m)
    } finally {
      startSecondHost()
    }
    expect({ here: appStateHere(join(alice, '.berth'), APP), hostB: engineStateB(APP) }).toEqual(before)
  }, 60_000)

  it('names a refused login, an unknown host key, and a host that never answers (within connect_timeout) as such: exit 6', async () => {
    const refused = berth(alice, ['deploy', 'production', '-c', elsewhere(alice, 'nobody', 'ssh://nobody@10.231.0.2')])
    expect(refused.code).toBe(6)
    expect(refused.stderr).toMatch(/cannot reach ssh:\/\/nobody@10\.231\.0\.2: the SSH login of nobody@10\.231\.0\.2 was refused \(.*Permission denied/)
    expect(refused.stderr).toContain('hint: berth logs in as ssh does, without asking')

    // The same host under another name: its key is known under the first one only.
    const unknown = berth(alice, ['status', 'production', '-c', elsewhere(alice, 'mapped', 'ssh://root@[::ffff:10.231.0.2]')])
    expect(unknown.code).toBe(6)
    expect(unknown.stderr).toContain('error: cannot reach ssh://root@[::ffff:10.231.0.2]: its host key is unknown here or has changed (Host key verification failed.)')
    expect(unknown.stderr).toContain('hint: Check the host\'s key fingerprint with its owner')

    // Accepts the TCP connection and never speaks SSH.
    const silent: Server = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as AddressInfo).port
      const started = Date.now()
      const hung = berth(alice, ['deploy', 'production', '-c', elsewhere(alice, 'silent', `ssh://root@127.0.0.1:${port}`, '2s')])
      expect(hung.code, hung.stderr).toBe(6)
      expect(Date.now() - started).toBeLessThan(2000 + 3000)
      expect(hung.stderr).toMatch(new RegExp(`cannot reach ssh://root@127\\.0\\.0\\.1:${port}: (the connection timed out after 2s|no answer within 2s)`))
    } finally {
      silent.close()
    }
  }, 60_000)

  it('behaves as a hang-up when the connection drops mid-deploy: the release is recorded failed, the lock freed, and the next deploy works', async () => {
    const active = releases(alice).find((r) => r.status === 'active')
    const restore = slowStart(alice, 6)
    bump(alice)
    let result
    try {
      const running = startBerth(alice, ['deploy', 'production'])
      await running.waitFor(/wait until berthremotef-production \d{8}-\d{6} is healthy/)
      const masters = sshMastersOf(running.pid)
      expect(masters).toHaveLength(1)
      process.kill(masters[0] as number, 'SIGKILL')
      result = await running.done
    } finally {
      restore()
    }
    expect(result.code, result.stderr).toBe(6)
    expect(result.stderr).toMatch(/error: the SSH connection to ssh:\/\/root@10\.231\.0\.2 was lost \(.*\) during the deploy of production: release \d{8}-\d{6} is recorded as failed and may be partly applied; the last good release is \d{8}-\d{6}: berth rollback production --to \d{8}-\d{6}\. Check with: berth status production/)
    const [dropped] = releases(alice)
    expect(dropped?.status).toBe('failed')
    expect(existsSync(lockOnHost)).toBe(false)
    const audit = readFileSync(join(HOST_STATE_ROOT, APP, 'production', 'audit.log'), 'utf8').trim().split('\n').pop() ?? ''
    expect(JSON.parse(audit)).toMatchObject({ action: 'deploy', result: 'CONNECTION_LOST', from: active?.tag })

    const v = bump(alice)
    const again = berth(alice, ['deploy', 'production'])
    expect(again.code, again.stderr).toBe(0)
    expect(await version_()).toBe(v)
  }, 120_000)
})
