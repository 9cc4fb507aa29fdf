import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, docker, httpGet, repoRoot, requireEngine, startBerth } from './engine.js'
import { processRuns } from '../unit/support/processes.js'

/** Locks, interruptions and reboots (SPEC §7): nothing needs manual cleanup afterwards. */

const APP = 'berthcrash'
const PORTS = { staging: 18681, production: 18682 }
let dir: string
let version = 0

function bumpVersion(): void {
  writeFileSync(join(dir, 'web', 'www', 'version'), `v${++version}\n`)
}

function releases(env: string): { tag: string; status: string }[] {
  return (JSON.parse(berth(dir, ['releases', env, '--json']).stdout) as { releases: { tag: string; status: string }[] }).releases
}

const lockFile = (env: string) => join(dir, '.berth', env, 'lock')

describe('locks, signals and reboots', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ['staging', 'production'])
    dir = copyFixtureAs(APP, PORTS)
    bumpVersion()
    const r = berth(dir, ['deploy', 'staging'])
    expect(r.code, r.stderr).toBe(0)
  })

  afterAll(() => cleanApp(APP, ['staging', 'production']))

  it('lets exactly one of two concurrent deploys of one environment proceed; the other exits 5 naming the holder', async () => {
    bumpVersion()
    const a = startBerth(dir, ['deploy', 'staging'])
    const b = startBerth(dir, ['deploy', 'staging'])
    const results = await Promise.all([a.done, b.done])
    const codes = results.map((r) => r.code).sort()
    expect(codes, results.map((r) => r.stderr).join('\n---\n')).toEqual([0, 5])
    const loser = results.find((r) => r.code === 5)
    expect(loser?.stderr).toMatch(/staging is locked by .*@.* \(pid \d+, "berth deploy staging", since /)
    expect(existsSync(lockFile('staging'))).toBe(false)
  })

  it('holds an environment by hand (a deploy freeze): deploys exit 5 naming the reason until unlock', () => {
    const held = berth(dir, ['lock', 'staging', '-m', 'freeze: black friday'])
    expect(held.code, held.stderr).toBe(0)
    const refused = berth(dir, ['deploy', 'staging'])
    expect(refused.code).toBe(5)
    expect(refused.stderr).toMatch(/staging is locked by .* \(held by hand since .*: "freeze: black friday"\)/)
    expect(refused.stderr).toContain('berth unlock staging')
    const status = JSON.parse(berth(dir, ['lock', 'staging', '--json']).stdout) as { locked: boolean; holder: { message: string } }
    expect(status).toMatchObject({ locked: true, holder: { message: 'freeze: black friday' } })
    expect(berth(dir, ['unlock', 'staging']).code).toBe(0)
    expect(existsSync(lockFile('staging'))).toBe(false)
    const audit = readFileSync(join(dir, '.berth', 'staging', 'audit.log'), 'utf8')
    expect(audit).toMatch(/"action":"lock".*freeze: black friday/)
    expect(audit).toMatch(/"action":"unlock"/)
  })

  it('deploys two different environments at the same time', async () => {
    const tag = releases('staging').find((r) => r.status === 'active')?.tag as string
    bumpVersion()
    const a = startBerth(dir, ['deploy', 'staging'])
    const b = startBerth(dir, ['deploy', 'production', '--tag', tag])
    const [ra, rb] = await Promise.all([a.done, b.done])
    expect(ra.code, ra.stderr).toBe(0)
    expect(rb.code, rb.stderr).toBe(0)
    expect((await httpGet(`http://127.0.0.1:${PORTS.production}/version`)).body).toBe('v2')
  })

  it.each([
    ['the build', /\[start\] build /],
    ['up', /\[start\] apply /],
    ['the health wait', /\[start\] wait until /],
  ])('recovers from a deploy killed with SIGKILL during %s', async (_when, step) => {
    bumpVersion()
    const run = startBerth(dir, ['deploy', 'staging'])
    await run.waitFor(step)
    run.kill('SIGKILL')
    const killed = await run.done
    expect(killed.signal).toBe('SIGKILL')
    expect(existsSync(lockFile('staging'))).toBe(true)

    bumpVersion()
    const next = berth(dir, ['deploy', 'staging'])
    expect(next.code, next.stderr).toBe(0)
    expect(next.stderr).toMatch(/taking over a stale lock on staging .*whose process is gone/)
    expect((await httpGet(`http://127.0.0.1:${PORTS.staging}/version`)).body).toBe(`v${version}`)
  })

  it('releases the lock and records the release failed when the session hangs up (SIGHUP)', async () => {
    bumpVersion()
    const run = startBerth(dir, ['deploy', 'staging'])
    await run.waitFor(/\[start\] wait until /)
    run.kill('SIGHUP')
    const r = await run.done
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/deploy of staging interrupted by SIGHUP: release \S+ is recorded as failed/)
    expect(existsSync(lockFile('staging'))).toBe(false)
    expect(releases('staging')[0]?.status).toBe('failed')
    const audit = readFileSync(join(dir, '.berth', 'staging', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string; message?: string })
    expect(audit.at(-1)).toMatchObject({ action: 'deploy', result: 'INTERRUPTED', message: 'SIGHUP' })

    const again = berth(dir, ['deploy', 'staging'])
    expect(again.code, again.stderr).toBe(0)
  })

  it('brings every service of both environments back after an engine restart (the closest thing to a reboot)', async () => {
    const pidFile = '/var/run/docker.pid'
    expect(existsSync(pidFile), 'the suite manages the local dockerd (scripts/engine.sh); no pid file found').toBe(true)
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < 120 && processRuns(pid); i++) await sleep(500)
    expect(processRuns(pid)).toBe(false)
    execFileSync('bash', [join(repoRoot, 'scripts', 'engine.sh')], { stdio: 'ignore' })

    const deadline = Date.now() + 90_000
    let states: string[] = []
    while (Date.now() < deadline) {
      states = docker('ps', '--all', '--filter', `label=berth.app=${APP}`, '--format', '{{.Names}} {{.Status}}').split('\n').sort()
      if (states.length === 4 && states.every((s) => s.includes('(healthy)'))) break
      await sleep(1000)
    }
    expect(states).toHaveLength(4)
    for (const s of states) expect(s).toContain('(healthy)')
    expect((await httpGet(`http://127.0.0.1:${PORTS.staging}/health`)).status).toBe(200)
    expect((await httpGet(`http://127.0.0.1:${PORTS.production}/health`)).status).toBe(200)
  }, 240_000)
})
