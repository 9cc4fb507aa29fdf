import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, containerStarts, repoRoot, requireEngine, seenOutput } from './engine.js'
import { cleanAppB, dockerB, HOST_B, HOST_B_SOCKET, HOST_STATE_ROOT, remoteFixture, requireHostB, sshdPid, sshMastersOf, startSecondHost } from './hostB.js'
import { processRuns } from '../unit/support/processes.js'

/**
 * SPEC §4 on an environment of another host (SPEC §10): releases, logs (and -f), compose, lock/unlock, status,
 * drift, doctor and down address production on the second host as they address a local environment, while
 * staging runs on this machine's engine; doctor checks each engine on its own and names the second one, and
 * reports it as one failed finding while its sshd is stopped.
 */

// Its own app name and ports, so this file never collides with the other suites.
const APP = 'berthremops'
const ENVS = ['staging', 'production']
const PORTS = { staging: 18891, production: 18892 }
const SECRETS = ['fixture-staging-token-4f9c', 'fixture-production-token-7b21']
const MANUAL = `${APP}-web-manual`
const onHost = join(HOST_STATE_ROOT, APP, 'production')
const LONG = 180_000

let dir: string
let tag = ''

interface Check {
  id: string
  status: string
  summary: string
  details: string[]
  hint?: string
  engine?: string
}

function json<T>(args: string[], code = 0): T {
  const r = berth(dir, [...args, '--json'])
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(code)
  return JSON.parse(r.stdout) as T
}

const releases = (env: string) => json<{ releases: { tag: string; status: string }[] }>(['releases', env]).releases
type EnvStatus = { environment: string; engine?: string; release?: string; services: { container: string }[]; drift: { kind: string; service: string }[] }
const statusOf = (env: string) => json<{ environments: EnvStatus[] }>(['status', env]).environments[0] as EnvStatus
/** Containers of a compose project on the second host, by name. */
const namesB = (project: string) => dockerB('ps', '--all', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}').split('\n').filter(Boolean).sort()
const idsB = () => dockerB('ps', '--all', '--no-trunc', '--filter', `label=berth.app=${APP}`, '--format', '{{.ID}} {{.State}}').split('\n').sort()

describe('the single-environment commands and doctor on an environment of the second host', () => {
  beforeAll(() => {
    requireEngine()
    requireHostB()
    spawnSync('docker', ['rm', '--force', MANUAL], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
    dir = remoteFixture(APP, PORTS)
    for (const env of ENVS) chmodSync(join(dir, 'env', `${env}.env`), 0o600)
  }, LONG)

  afterAll(() => {
    spawnSync('docker', ['rm', '--force', MANUAL], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, LONG)

  it('deploys staging here and production on the second host; releases lists the host\'s history', () => {
    for (const env of ENVS) {
      const r = berth(dir, ['deploy', env])
      expect(r.code, r.stderr).toBe(0)
    }
    tag = releases('production')[0]?.tag ?? ''
    expect(releases('production').map((r) => [r.tag, r.status])).toEqual([[tag, 'active']])
    expect(JSON.parse(readFileSync(join(onHost, 'releases.json'), 'utf8'))).toMatchObject({ releases: [{ tag, status: 'active' }] })
    expect(existsSync(join(dir, '.berth', 'production', 'releases.json'))).toBe(false)
    expect(berth(dir, ['releases', 'production']).stdout).toMatch(new RegExp(`^${tag} \\*\\s+active\\s`, 'm'))
    expect(namesB(`${APP}-production`)).toEqual([`${APP}-production-store-1`, `${APP}-production-web-1`])
  }, LONG)

  it("prints production's logs from the second host, masked, and returns them with --json", () => {
    const r = berth(dir, ['logs', 'production', 'web', '--tail', '20'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/web-1 +\| web: .* for production token=\*\*\*\*$/m)
    expect(r.stdout).not.toContain('for staging')
    expect(r.stdout).not.toContain('\x1b')
    const doc = json<{ environment: string; release: string; containers: number; lines: string[] }>(['logs', 'production', '--tail', '5'])
    expect(doc).toMatchObject({ environment: 'production', release: tag, containers: 2 })
    expect(doc.lines.some((l) => l.endsWith('for production token=****'))).toBe(true)
  })

  it('follows them with -f until interrupted, and its SSH connection ends with it', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'run.js'), 'logs', 'production', 'web', '-f'], { cwd: dir, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    let masters: number[] = []
    let socketDir = ''
    try {
      const deadline = Date.now() + 15_000
      while (!out.includes('token=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(child.exitCode).toBeNull()
      masters = sshMastersOf(child.pid as number)
      expect(masters).toHaveLength(1)
      const control = readFileSync(`/proc/${masters[0]}/cmdline`, 'utf8').split('\0')
      socketDir = dirname(control[control.indexOf('-S') + 1] as string)
    } finally {
      // Our own child's process group, by id, as ^C at a terminal would: berth and the compose it runs.
      if (child.pid) process.kill(-child.pid, 'SIGINT')
      await exited
    }
    seenOutput.push(out)
    expect(out).toMatch(/web: .* for production token=\*\*\*\*/)
    const deadline = Date.now() + 5000
    while (masters.some(processRuns) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    for (const pid of masters) expect(processRuns(pid), `ssh master ${pid} still runs`).toBe(false)
    // A signal ends berth before it removes its connection's private directory (a dead socket in it): ours to clear.
    if (/\/berth-ssh-[^/]+$/.test(socketDir)) rmSync(socketDir, { recursive: true, force: true })
  }, 30_000)

  it("runs compose ps and exec on production's project on the second host, with compose's exit code", () => {
    const ps = berth(dir, ['compose', 'production', '--', 'ps', '--format', '{{.Name}}'])
    expect(ps.code, ps.stderr).toBe(0)
    expect(ps.stdout.trim().split('\n').sort()).toEqual(namesB(`${APP}-production`))
    const exec = berth(dir, ['compose', 'production', '--', 'exec', '-T', 'web', 'sh', '-c', 'echo "token=$SECRET_TOKEN env=$APP_ENV"; exit 7'])
    expect(exec.code, exec.stderr).toBe(7)
    expect(exec.stdout).toBe('token=**** env=production\n')
  })

  it("holds production's lock on the host with lock -m: down exits 5 changing nothing there; unlock releases it, both audited there", () => {
    const held = berth(dir, ['lock', 'production', '-m', 'freeze: remote e2e'])
    expect(held.code, held.stderr).toBe(0)
    expect(JSON.parse(readFileSync(join(onHost, 'lock'), 'utf8'))).toMatchObject({ manual: true, message: 'freeze: remote e2e' })
    expect(json<{ locked: boolean }>(['lock', 'production'])).toMatchObject({ locked: true })
    const before = idsB()
    const down = berth(dir, ['down', 'production'])
    expect(down.code, down.stderr).toBe(5)
    expect(down.stderr).toContain('freeze: remote e2e')
    expect(idsB()).toEqual(before)
    const doc = json<{ checks: Check[] }>(['doctor'])
    expect(doc.checks.find((c) => c.id === 'locks' && c.engine === HOST_B)).toMatchObject({ status: 'ok', details: [expect.stringMatching(/^production: held by .*"freeze: remote e2e"\); deploys and rollbacks exit 5 until berth unlock production$/)] })

    const unlocked = berth(dir, ['unlock', 'production'])
    expect(unlocked.code, unlocked.stderr).toBe(0)
    expect(existsSync(join(onHost, 'lock'))).toBe(false)
    const audit = readFileSync(join(onHost, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string })
    expect(audit.map((a) => a.action).slice(-2)).toEqual(['lock', 'unlock'])
    expect(json<{ locked: boolean }>(['lock', 'production'])).toMatchObject({ locked: false })
  })

  it('status and doctor pass on both engines, doctor naming the second one in each of its findings', () => {
    expect(statusOf('production')).toMatchObject({ environment: 'production', engine: HOST_B, release: tag, drift: [] })
    const doc = json<{ exitCode: number; checks: Check[] }>(['doctor'])
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([])
    const local = ['engine', 'compose', 'restart-policies', 'unmanaged', 'drift', 'ports', 'shared-networks', 'network-pools', 'env-files', 'locks', 'state', 'disk']
    expect(doc.checks.map((c) => [c.id, c.engine])).toEqual([...local.map((id) => [id, undefined]), ...local.filter((id) => id !== 'env-files').map((id) => [id, HOST_B])])
    // Each engine's state store holds its own environment (this machine's .remote/ copies are none).
    expect(doc.checks.filter((c) => c.id === 'state').map((c) => c.summary)).toEqual(['the state files of 1 environment read as they should', 'the state files of 1 environment read as they should'])
    const text = berth(dir, ['doctor'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^ok\s+drift\s+1 environment runs as recorded$/m)
    expect(text.stdout).toMatch(/^ok\s+drift\s+on ssh:\/\/root@10\.231\.0\.2: 1 environment runs as recorded$/m)
  }, 60_000)

  it('reports a container recreated by hand on the second host as drift, and one started there by hand as unmanaged, in status and doctor', () => {
    writeFileSync(join(dir, 'hand.env'), readFileSync(join(dir, 'env', 'production.env'), 'utf8').replace(/^APP_ENV=.*$/m, 'APP_ENV=production-by-hand'))
    writeFileSync(join(dir, 'hand.override.yaml'), `services:\n  web:\n    image: ${APP}-web:${tag}\n  store:\n    image: ${APP}-store:${tag}\n`)
    const compose = ['compose', '-p', `${APP}-production`, '-f', join(dir, 'compose.yaml'), '-f', join(dir, 'hand.override.yaml'), '--env-file', join(dir, 'hand.env')]
    execFileSync('docker', [...compose, 'up', '--detach', '--no-deps', '--no-build', '--wait', 'web'], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
    dockerB('run', '--detach', '--name', MANUAL, `${APP}-web:${tag}`)

    const production = statusOf('production')
    expect(production.drift.filter((d) => d.service === 'web').map((d) => d.kind).sort()).toEqual(['config', 'unlabelled'])
    const all = json<{ environments: EnvStatus[]; unmanaged: { name: string; engine?: string }[] }>(['status'])
    expect(all.environments.find((e) => e.environment === 'staging')?.drift).toEqual([])
    expect(all.unmanaged).toEqual([expect.objectContaining({ name: MANUAL, engine: HOST_B })])
    expect(berth(dir, ['status', 'production']).stdout).toMatch(new RegExp(`drift from release ${tag}:\\n {4}web\\s+${APP}-production-web-1\\s+created outside berth`))

    const doc = json<{ exitCode: number; checks: Check[]; drift: { environment: string; engine?: string }[] }>(['doctor'], 1)
    const remote = (id: string) => doc.checks.find((c) => c.id === id && c.engine === HOST_B)
    expect(remote('drift')).toMatchObject({ status: 'warn', hint: expect.stringContaining(`berth deploy production --tag ${tag}`) as unknown })
    expect(remote('unmanaged')?.details.join('\n')).toContain(MANUAL)
    // The hand-made web has no restart policy (seed 001).
    expect(remote('restart-policies')).toMatchObject({ status: 'fail', details: [`${APP}-production-web-1 (production/web): restart no`] })
    expect(doc.checks.filter((c) => !c.engine && c.status === 'fail')).toEqual([])
    expect(berth(dir, ['doctor']).stdout).toMatch(/^WARN\s+drift\s+on ssh:\/\/root@10\.231\.0\.2: production differs from the active release record$/m)

    dockerB('rm', '--force', MANUAL)
    const repaired = berth(dir, ['deploy', 'production', '--tag', tag])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(statusOf('production').drift).toEqual([])
  }, LONG)

  it('reports the second host as one failed finding while its sshd is stopped, still checking this engine, and exits 6', () => {
    process.kill(sshdPid(), 'SIGTERM')
    try {
      const started = Date.now()
      const r = berth(dir, ['doctor'])
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(r.code, r.stderr).toBe(6)
      expect(r.stdout).toMatch(/^FAIL\s+engine\s+on ssh:\/\/root@10\.231\.0\.2: cannot reach ssh:\/\/root@10\.231\.0\.2: the connection was refused/m)
      expect(r.stdout).toMatch(/^ {8}production runs there: not checked$/m)
      expect(r.stdout).toMatch(/^ok\s+drift\s+1 environment runs as recorded$/m)
      const doc = json<{ exitCode: number; checks: Check[] }>(['doctor'], 6)
      expect(doc.checks.filter((c) => c.engine === HOST_B)).toEqual([expect.objectContaining({ id: 'engine', status: 'fail', hint: expect.stringContaining('sshd') as unknown })])
      expect(doc.checks.filter((c) => !c.engine).map((c) => c.status)).not.toContain('fail')
    } finally {
      startSecondHost()
    }
  }, 60_000)

  it('downs production on the second host alone, staging here untouched, volume kept unless --volumes', () => {
    const staging = containerStarts(`${APP}-staging`)
    const volumes = () => dockerB('volume', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${APP}-production`).split('\n').filter(Boolean)
    expect(volumes()).toHaveLength(1)
    const r = berth(dir, ['down', 'production'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`berth rollback production --to ${tag}`)
    expect(namesB(`${APP}-production`)).toEqual([])
    expect(dockerB('network', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${APP}-production`)).toBe('')
    expect(volumes()).toHaveLength(1)
    expect(containerStarts(`${APP}-staging`)).toEqual(staging)
    expect(releases('production').find((x) => x.tag === tag)?.status).toBe('previous')
    const audit = readFileSync(join(onHost, 'audit.log'), 'utf8').trim().split('\n')
    expect(JSON.parse(audit.at(-1) as string)).toMatchObject({ action: 'down', result: 'ok', tag })
    expect(statusOf('production')).toMatchObject({ engine: HOST_B, services: [] })
    expect(berth(dir, ['logs', 'production']).stderr).toContain('production has no containers')

    const purge = berth(dir, ['down', 'production', '--volumes'])
    expect(purge.code, purge.stderr).toBe(0)
    expect(volumes()).toEqual([])
    expect(containerStarts(`${APP}-staging`)).toEqual(staging)
  }, 60_000)

  it('never printed a secret value', () => {
    const all = seenOutput.join('\n')
    for (const secret of SECRETS) expect(all).not.toContain(secret)
  })
})
