import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixture, docker, httpGet, requireEngine } from './engine.js'

/** Its own app name and ports, so this file never touches the main suite's berthtest stacks. */
const APP = 'berthdrift'
const ENVS = ['staging', 'production']
const MANUAL = 'berthdrift-web-manual'
const STAGING = 'http://127.0.0.1:18381'

interface Drift {
  kind: string
  service: string
  container?: string
  expected?: string
  actual?: string
}
interface StatusJson {
  environments: { environment: string; release?: string; services: { container: string }[]; drift: Drift[] }[]
  unmanaged: { name: string; reasons: string[]; command: string }[]
}
interface DoctorJson {
  exitCode: number
  checks: { id: string; status: string; details: string[]; hint?: string }[]
}

let dir: string
let tag = ''

function statusJson(): StatusJson {
  const r = berth(dir, ['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as StatusJson
}

function staging(report: StatusJson) {
  const env = report.environments.find((e) => e.environment === 'staging')
  if (!env) throw new Error('no staging in status')
  return env
}

function doctorJson(): { code: number; report: DoctorJson; check: (id: string) => DoctorJson['checks'][number] } {
  const r = berth(dir, ['doctor', '--json'])
  const report = JSON.parse(r.stdout) as DoctorJson
  return {
    code: r.code,
    report,
    check: (id) => {
      const found = report.checks.find((c) => c.id === id)
      if (!found) throw new Error(`no check ${id}`)
      return found
    },
  }
}

function removeManual(): void {
  spawnSync('docker', ['rm', '--force', MANUAL], { stdio: 'ignore' })
}

describe('drift and doctor on a real engine', () => {
  beforeAll(() => {
    requireEngine()
    removeManual()
    cleanApp(APP, ENVS)
    dir = copyFixture('app')
    const deployYml = join(dir, 'deploy.yml')
    writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace(/^app: berthtest$/m, `app: ${APP}`))
    for (const [name, from, to] of [['staging', '18181', '18381'], ['production', '18182', '18382']] as const) {
      const file = join(dir, 'env', `${name}.env`)
      writeFileSync(file, readFileSync(file, 'utf8').replace(`WEB_PORT=${from}`, `WEB_PORT=${to}`))
      chmodSync(file, 0o600)
    }
  })

  afterAll(() => {
    removeManual()
    cleanApp(APP, ENVS)
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('deploys staging; status shows no drift and doctor passes', () => {
    const deploy = berth(dir, ['deploy', 'staging'])
    expect(deploy.code, deploy.stderr).toBe(0)
    const report = statusJson()
    tag = staging(report).release ?? ''
    expect(tag).toMatch(/^\d{8}-\d{6}(-\d+)?$/)
    expect(staging(report).drift).toEqual([])
    expect(report.unmanaged).toEqual([])
    expect(berth(dir, ['status']).stdout).toMatch(/^ {2}drift: none$/m)

    const { code, report: doc } = doctorJson()
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([])
    expect(code).toBe(0)
    expect(doc.checks.map((c) => c.id)).toEqual(['engine', 'compose', 'restart-policies', 'unmanaged', 'drift', 'ports', 'shared-networks', 'network-pools', 'env-files', 'locks', 'state', 'disk'])
  }, 180_000)

  it('reports a container started by hand from the app image as unmanaged, with the command to bring it back', () => {
    docker('run', '--detach', '--name', MANUAL, `${APP}-web:${tag}`)
    const report = statusJson()
    const manual = report.unmanaged.find((u) => u.name === MANUAL)
    expect(manual).toMatchObject({ command: `docker rm -f ${MANUAL} && berth deploy ENV` })
    expect(manual?.reasons).toEqual(expect.arrayContaining(['name', 'image', 'label']))
    // It inherits the image's compose project label, yet is not one of staging's services.
    expect(staging(report).services.map((s) => s.container)).not.toContain(MANUAL)
    expect(staging(report).drift).toEqual([])

    const text = berth(dir, ['status']).stdout
    expect(text).toContain(`containers of ${APP} outside its environments`)
    expect(text).toMatch(new RegExp(`^ {2}${MANUAL}\\s+${APP}-web:${tag}\\s+running\\s+docker rm -f ${MANUAL} && berth deploy ENV$`, 'm'))

    const { check } = doctorJson()
    expect(check('unmanaged').status).toBe('warn')
    expect(check('unmanaged').details.join('\n')).toContain(MANUAL)
  }, 60_000)

  it('reports drift for a service recreated by hand with a changed env value', async () => {
    writeFileSync(join(dir, 'hand.env'), readFileSync(join(dir, 'env', 'staging.env'), 'utf8').replace(/^APP_ENV=.*$/m, 'APP_ENV=staging-by-hand'))
    writeFileSync(join(dir, 'hand.override.yaml'), `services:\n  web:\n    image: ${APP}-web:${tag}\n  store:\n    image: ${APP}-store:${tag}\n`)
    execFileSync(
      'docker',
      ['compose', '-p', `${APP}-staging`, '-f', join(dir, 'compose.yaml'), '-f', join(dir, 'hand.override.yaml'), '--env-file', join(dir, 'hand.env'), 'up', '--detach', '--no-deps', '--no-build', '--wait', 'web'],
      { stdio: 'ignore' },
    )
    expect((await httpGet(`${STAGING}/env`)).body).toBe('staging-by-hand')

    const drift = staging(statusJson()).drift
    const web = drift.filter((d) => d.service === 'web')
    expect(web.map((d) => d.kind).sort()).toEqual(['config', 'unlabelled'])
    expect(web.every((d) => d.container === `${APP}-staging-web-1`)).toBe(true)
    const config = web.find((d) => d.kind === 'config')
    expect(config?.expected).toMatch(/^[0-9a-f]{64}$/)
    expect(config?.actual).toBe(docker('inspect', '--format', '{{index .Config.Labels "com.docker.compose.config-hash"}}', `${APP}-staging-web-1`))
    expect(config?.actual).not.toBe(config?.expected)
    expect(drift.filter((d) => d.service === 'store')).toEqual([])

    expect(berth(dir, ['status']).stdout).toMatch(new RegExp(`drift from release ${tag}:\\n {4}web\\s+${APP}-staging-web-1\\s+created outside berth`))
  }, 120_000)

  it('doctor fails on an env file readable by others and warns about a stale lock, exit 1', async () => {
    const envFile = join(dir, 'env', 'staging.env')
    chmodSync(envFile, 0o644)
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    const lock = join(dir, '.berth', 'staging', 'lock')
    writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), by: 'alice@host', command: 'berth deploy staging', startedAt: '2026-11-22T09:00:00.000Z' }))

    const { code, report, check } = doctorJson()
    expect(code).toBe(1)
    expect(report.exitCode).toBe(1)
    expect(check('env-files')).toMatchObject({ status: 'fail', hint: `chmod 600 ${envFile}` })
    expect(check('locks').status).toBe('warn')
    expect(check('locks').details.join('\n')).toMatch(new RegExp(`staging: stale lock left by alice@host \\(pid ${dead.stdout},`))
    expect(check('locks').hint).toContain(`rm ${lock}`)
    // The hand-made web has no restart policy: it would not come back after a reboot (seed 001).
    expect(check('restart-policies').status).toBe('fail')
    expect(check('restart-policies').details).toEqual([`${APP}-staging-web-1 (staging/web): restart no`])
    expect(check('drift').status).toBe('warn')
    expect(check('drift').hint).toContain(`berth deploy staging --tag ${tag}`)

    const text = berth(dir, ['doctor'])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^FAIL\s+env-files\s+1 env file readable by other users$/m)
    expect(text.stdout).toContain(`hint: chmod 600 ${envFile}`)
    expect(text.stdout).toMatch(/^WARN\s+locks\s+1 stale lock$/m)
  }, 60_000)
  it('repairs the drift with the command doctor suggests, beside the hand-started container', () => {
    // The hand-started container inherits staging's project label from its image: it must not count
    // as one of staging's services in the health wait (it would fail the deploy).
    chmodSync(join(dir, 'env', 'staging.env'), 0o600)
    const r = berth(dir, ['deploy', 'staging', '--tag', tag])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/taking over a stale lock on staging/)
    const report = JSON.parse(berth(dir, ['status', 'staging', '--json']).stdout) as { environments: { drift: unknown[] }[]; unmanaged: { name: string }[] }
    expect(report.environments[0]?.drift).toEqual([])
    expect(report.unmanaged.map((u) => u.name)).toContain(MANUAL)
  }, 60_000)
})
