import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { appStateHere, berth, cleanApp, containerStarts, copyFixture, docker, hashTree, httpGet, requireEngine } from './engine.js'

// Its own app, ports and range, so this file never collides with another suite.
const APP = 'berthprev'
const ENVS = ['staging', 'preview-1', 'preview-2']
const STAGING_PORT = 18391
const RANGE = { first: 43100, last: 43199 }
const TTL_S = 5
const LONG = 120_000

let dir: string
let stateDir: string
let tag = ''

/**
 * The core fixture as berthprev: staging (a literal environment) and the pattern preview-*, whose web answers
 * on two allocated ports (compose.preview.yaml publishes it a second time) and whose env file comes from a
 * template using BERTH_ENV and two ports; ttl 5s, so that the test can watch one expire.
 */
function previewFixture(): string {
  const d = copyFixture('app')
  writeFileSync(
    join(d, 'deploy.yml'),
    `app: ${APP}
compose: [compose.yaml]
health:
  timeout: 20s
  interval: 1s
  http:
    - url: http://127.0.0.1:\${WEB_PORT}/health
      contains: ok
environments:
  staging:
    env_file: env/staging.env
    required: [SECRET_TOKEN]
  preview-*:
    compose: [compose.preview.yaml]
    env_template: env/preview.env.template
    env_file: env/preview-*.env
    required: [SECRET_TOKEN]
    ports: ${RANGE.first}-${RANGE.last}
    ttl: ${TTL_S}s
`,
  )
  writeFileSync(join(d, 'compose.preview.yaml'), 'services:\n  web:\n    ports:\n      - "${ADMIN_PORT:?}:8080"\n')
  writeFileSync(
    join(d, 'env', 'preview.env.template'),
    '# written by berth for ${BERTH_ENV}\nAPP_ENV=${BERTH_ENV}\nWEB_PORT=${BERTH_PORT_1}\nADMIN_PORT=${BERTH_PORT_2}\nSECRET_TOKEN=fixture-preview-token-${BERTH_ENV}\n',
  )
  const staging = join(d, 'env', 'staging.env')
  writeFileSync(staging, readFileSync(staging, 'utf8').replace(/^WEB_PORT=\d+$/m, `WEB_PORT=${STAGING_PORT}`))
  return d
}

const envFile = (env: string) => join(dir, 'env', `${env}.env`)

function portsOf(env: string): number[] {
  const text = readFileSync(envFile(env), 'utf8')
  return [/^WEB_PORT=(\d+)$/m, /^ADMIN_PORT=(\d+)$/m].map((re) => Number(re.exec(text)?.[1]))
}

function deploy(env: string, ...args: string[]): void {
  const r = berth(dir, ['deploy', env, ...args])
  expect(r.code, r.stderr).toBe(0)
}

/** What must stay as it is of an environment: its containers (id and start) and its state directory. */
function untouched(env: string): { containers: string[]; state: Record<string, string> } {
  return { containers: containerStarts(`${APP}-${env}`), state: hashTree(join(stateDir, env)) }
}

const byProject = (kind: 'network' | 'volume' | 'container', project: string) =>
  (kind === 'container' ? docker('ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${project}`) : docker(kind, 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project}`))
    .split('\n')
    .filter(Boolean)

interface StatusJson {
  environments: { environment: string; release?: string; age?: { createdAt: string; ageMs: number; lastDeployAt: string; pattern?: string; expiresAt?: string; expired?: boolean } }[]
}

describe('preview environments on a real engine (SPEC §11)', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ENVS)
    dir = previewFixture()
    stateDir = join(dir, '.berth')
  })

  afterAll(() => {
    cleanApp(APP, ENVS)
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('makes preview-1 and preview-2 from the pattern: env files 0600 from the template, ports from the range that differ, both answering', async () => {
    deploy('staging')
    const releases = JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }
    tag = releases.releases.find((r) => r.status === 'active')?.tag ?? ''
    expect(tag).not.toBe('')
    deploy('preview-1', '--tag', tag)
    deploy('preview-2', '--tag', tag)

    for (const env of ['preview-1', 'preview-2']) {
      expect(statSync(envFile(env)).mode & 0o777).toBe(0o600)
      expect(readFileSync(envFile(env), 'utf8')).toContain(`APP_ENV=${env}\n`)
      expect(existsSync(join(stateDir, env, 'preview.json'))).toBe(true)
      for (const port of portsOf(env)) {
        expect(port).toBeGreaterThanOrEqual(RANGE.first)
        expect(port).toBeLessThanOrEqual(RANGE.last)
        expect(await httpGet(`http://127.0.0.1:${port}/env`)).toEqual({ status: 200, body: env })
      }
    }
    const all = [...portsOf('preview-1'), ...portsOf('preview-2')]
    expect(new Set(all).size).toBe(4)
    expect(all).not.toContain(STAGING_PORT)
  }, LONG)

  it('deploys preview-1 again on the same ports without rewriting its env file, which the operator may have edited', async () => {
    const ports = portsOf('preview-1')
    writeFileSync(envFile('preview-1'), `${readFileSync(envFile('preview-1'), 'utf8')}EDITED_BY_HAND=yes\n`, { mode: 0o600 })
    const edited = readFileSync(envFile('preview-1'), 'utf8')
    deploy('preview-1', '--tag', tag)
    expect(readFileSync(envFile('preview-1'), 'utf8')).toBe(edited)
    expect(portsOf('preview-1')).toEqual(ports)
    expect((await httpGet(`http://127.0.0.1:${ports[1]}/env`)).body).toBe('preview-1')
  }, LONG)

  it('shows every environment with its age, and the previews with their pattern and expiry, in status and status --json', () => {
    const json = berth(dir, ['status', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const report = JSON.parse(json.stdout) as StatusJson
    expect(report.environments.map((e) => e.environment)).toEqual(ENVS)
    const [staging, p1, p2] = report.environments
    expect(staging?.age).toMatchObject({ createdAt: expect.any(String), lastDeployAt: expect.any(String) })
    expect(staging?.age?.expiresAt).toBeUndefined()
    for (const p of [p1, p2]) {
      expect(p?.release).toBe(tag)
      expect(p?.age?.pattern).toBe('preview-*')
      expect(Date.parse(p?.age?.expiresAt ?? '') - Date.parse(p?.age?.lastDeployAt ?? '')).toBe(TTL_S * 1000)
    }
    // preview-1 was deployed again since it was made: its ttl counts from then.
    expect(Date.parse(p1?.age?.lastDeployAt ?? '')).toBeGreaterThan(Date.parse(p1?.age?.createdAt ?? ''))
    const text = berth(dir, ['status'])
    expect(text.stdout).toMatch(/preview-1 \(berthprev-preview-1\).*\n  age \d+s \(first deployed .*\), preview of preview-\*, (expires in \d+s|EXPIRED at )/)
    expect(text.stdout).toMatch(/staging \(berthprev-staging\).*\n  age \d+[sm].*, no expiry/)
  })

  it('refuses a name that matches no pattern, as before; every command but deploy refuses a preview never deployed; a refused first deploy leaves nothing', () => {
    const before = appStateHere(stateDir, APP)
    const unknown = berth(dir, ['deploy', 'feature-1'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown environment "feature-1"')
    const notMade = berth(dir, ['status', 'preview-3'])
    expect(notMade.code).toBe(2)
    expect(notMade.stderr).toContain('berth deploy preview-3')
    // A first deploy that preflight refuses (a release whose images are gone) leaves nothing of the preview.
    const refused = berth(dir, ['deploy', 'preview-3', '--tag', '20000101-000000'])
    expect(refused.code, refused.stderr).toBe(2)
    expect(appStateHere(stateDir, APP)).toEqual(before)
    expect(existsSync(envFile('preview-3'))).toBe(false)
    expect(existsSync(join(stateDir, 'preview-3'))).toBe(false)
  })

  it('lists the expired previews with --dry-run and changes nothing', async () => {
    await sleep(TTL_S * 1000 + 500)
    const before = { engine: appStateHere(stateDir, APP), envFiles: ENVS.map((e) => existsSync(envFile(e))) }
    const r = berth(dir, ['prune', '--expired', '--dry-run', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as { dryRun: boolean; pruned: { environment: string; containers: string[] }[] }
    expect(result.dryRun).toBe(true)
    expect(result.pruned.map((p) => p.environment)).toEqual(['preview-1', 'preview-2'])
    expect(result.pruned[0]?.containers).toHaveLength(2)
    expect({ engine: appStateHere(stateDir, APP), envFiles: ENVS.map((e) => existsSync(envFile(e))) }).toEqual(before)
  }, LONG)

  it('prunes the expired preview-1 completely and leaves preview-2 (deployed again just now) and staging as they are', async () => {
    deploy('preview-2', '--tag', tag)
    const kept = { p2: untouched('preview-2'), staging: untouched('staging') }
    const p1Volumes = byProject('volume', `${APP}-preview-1`)
    expect(p1Volumes.length).toBeGreaterThan(0)

    const r = berth(dir, ['prune', '--expired', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { pruned: { environment: string }[] }).pruned.map((p) => p.environment)).toEqual(['preview-1'])

    for (const kind of ['container', 'network', 'volume'] as const) expect(byProject(kind, `${APP}-preview-1`)).toEqual([])
    expect(existsSync(join(stateDir, 'preview-1'))).toBe(false)
    expect(existsSync(envFile('preview-1'))).toBe(false)
    expect({ p2: untouched('preview-2'), staging: untouched('staging') }).toEqual(kept)
    expect((await httpGet(`http://127.0.0.1:${portsOf('preview-2')[0]}/env`)).body).toBe('preview-2')
    expect((await httpGet(`http://127.0.0.1:${STAGING_PORT}/env`)).body).toBe('staging')

    // preview-1 is no environment any more: status lists the others only.
    const status = JSON.parse(berth(dir, ['status', '--json']).stdout) as StatusJson
    expect(status.environments.map((e) => e.environment)).toEqual(['staging', 'preview-2'])
  }, LONG)
})
