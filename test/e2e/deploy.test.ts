import { appendFileSync, chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, type CliResult, cleanApp, containerStarts, copyFixture, docker, engineState, expectRefused, httpGet, requireEngine, seenOutput, startBerth } from './engine.js'
import { type Answer, startWebhookServer, type WebhookServer } from '../unit/support/webhookServer.js'

const APP = 'berthtest'
const ENVS = ['staging', 'production']
const STAGING = 'http://127.0.0.1:18181'
const PRODUCTION = 'http://127.0.0.1:18182'
/** The webhook's path: not named like a secret in the env file, masked because a notify URL uses it. */
const HOOK_PATH = 'hooks/fixture-notify-path-3c8a'
const SECRETS = ['fixture-staging-token-4f9c', 'fixture-production-token-7b21', HOOK_PATH]

let dir: string
const tags = { v1: '', v2: '', v3: '' }
let webhooks: WebhookServer
let answer: (n: number) => Answer = () => ({ status: 200 })

/**
 * A run of berth with staging's webhook in deploy.yml (${NOTIFY_URL} from its env file: the local recording
 * server). In the background, not spawnSync: the server answers from this process.
 */
async function notified(args: string[]): Promise<CliResult> {
  const deployYml = join(dir, 'deploy.yml')
  const original = readFileSync(deployYml, 'utf8')
  writeFileSync(deployYml, original.replace(/^  staging:\n/m, '  staging:\n    notify:\n      - url: ${NOTIFY_URL}\n'))
  try {
    return await startBerth(dir, args).done
  } finally {
    writeFileSync(deployYml, original)
  }
}

function posted(): Record<string, unknown>[] {
  return webhooks.received.map((r) => ({ path: r.path, ...(JSON.parse(r.body) as Record<string, unknown>) }))
}

function setVersion(version: string): void {
  writeFileSync(join(dir, 'web', 'www', 'version'), `${version}\n`)
}

function activeTag(env: string): string {
  const r = berth(dir, ['releases', env, '--json'])
  expect(r.code).toBe(0)
  const releases = (JSON.parse(r.stdout) as { releases: { tag: string; status: string }[] }).releases
  return releases.find((x) => x.status === 'active')?.tag ?? ''
}

describe('berth core on a real engine', () => {
  beforeAll(async () => {
    requireEngine()
    cleanApp(APP, ENVS)
    dir = copyFixture('app')
    webhooks = await startWebhookServer((n) => answer(n))
    appendFileSync(join(dir, 'env', 'staging.env'), `NOTIFY_URL=${webhooks.origin}/${HOOK_PATH}\n`)
  })

  afterAll(async () => {
    cleanApp(APP, ENVS)
    await webhooks?.close()
  })

  it('deploys staging and production side by side, each answering on its own port', async () => {
    setVersion('v1')
    // Staging's env file readable by every user: the deploy says so at once and goes on; production's is the owner's only.
    chmodSync(join(dir, 'env', 'staging.env'), 0o644)
    chmodSync(join(dir, 'env', 'production.env'), 0o600)
    const staging = berth(dir, ['deploy', 'staging'])
    expect(staging.stderr).toContain('no restart policy')
    expect(staging.stderr).toContain(`${join(dir, 'env', 'staging.env')} holds staging's secrets and is mode 644: open to every user; chmod 600`)
    expect(staging.code, staging.stderr).toBe(0)
    tags.v1 = activeTag('staging')
    expect(tags.v1).toMatch(/^\d{8}-\d{6}(-\d+)?$/)

    const production = berth(dir, ['deploy', 'production', '--tag', tags.v1])
    expect(production.code, production.stderr).toBe(0)
    expect(production.stderr).not.toContain('secrets and is mode')

    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(await httpGet(`${PRODUCTION}/version`)).toEqual({ status: 200, body: 'v1' })
    expect((await httpGet(`${PRODUCTION}/env`)).body).toBe('production')

    const labels = JSON.parse(docker('inspect', '--format', '{{json .Config.Labels}}', 'berthtest-production-web-1')) as Record<string, string>
    expect(labels).toMatchObject({ 'berth.app': APP, 'berth.env': 'production', 'berth.release': tags.v1, 'com.docker.compose.project': 'berthtest-production' })
    expect(docker('inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'berthtest-production-web-1')).toBe('unless-stopped')
    const imageLabels = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Labels}}', `berthtest-web:${tags.v1}`)) as Record<string, string>
    expect(imageLabels).toMatchObject({ 'berth.app': APP, 'berth.release': tags.v1, 'berth.service': 'web' })
  })

  it('promotes with --tag without building anything', () => {
    // The engine's images (sorted; those of the second host's files, which run beside, left out: engineState).
    const images = () => (engineState(join(dir, '.berth')) as { images: string[] }).images
    const before = images()
    const r = berth(dir, ['deploy', 'production', '--tag', tags.v1])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/\bbuild\b/)
    expect(images()).toEqual(before)
  })

  it('redeploys staging twice without touching production', async () => {
    const productionBefore = containerStarts('berthtest-production')
    expect(productionBefore).toHaveLength(2)
    setVersion('v2')
    const first = berth(dir, ['deploy', 'staging'])
    expect(first.code, first.stderr).toBe(0)
    tags.v2 = activeTag('staging')
    setVersion('v3')
    const second = await notified(['deploy', 'staging'])
    expect(second.code, second.stderr).toBe(0)
    tags.v3 = activeTag('staging')
    expect(new Set([tags.v1, tags.v2, tags.v3]).size).toBe(3)
    // SPEC §11: one POST, once the deploy was done, naming the release and the one it replaced.
    expect(posted()).toEqual([
      {
        path: `/${HOOK_PATH}`,
        action: 'deploy',
        app: APP,
        env: 'staging',
        release: tags.v3,
        previous: tags.v2,
        result: 'ok',
        duration: expect.any(Number) as unknown,
        who: expect.stringMatching(/.@./) as unknown,
        host: hostname(),
      },
    ])
    expect(second.stderr).toContain('notifying webhook #1 of staging: ok')

    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v3' })
    expect(await httpGet(`${PRODUCTION}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(containerStarts('berthtest-production')).toEqual(productionBefore)
  }, 45_000)

  it('rolls back to an earlier release: images and config together', async () => {
    webhooks.received.length = 0
    const r = await notified(['rollback', 'staging', '--to', tags.v1])
    expect(r.code, r.stderr).toBe(0)
    // SPEC §11: a rollback is notified as a deploy is, naming the release it went back to and the one it replaced.
    expect(posted()).toMatchObject([{ path: `/${HOOK_PATH}`, action: 'rollback', app: APP, env: 'staging', release: tags.v1, previous: tags.v3, result: 'ok' }])
    expect(r.stderr).toContain('notifying webhook #1 of staging: ok')
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    const releases = JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }
    expect(releases.releases.find((x) => x.tag === tags.v1)?.status).toBe('active')
    expect(releases.releases.find((x) => x.tag === tags.v3)?.status).toBe('rolled-back')
    expect(releases.releases.find((x) => x.tag === tags.v2)?.status).toBe('previous')
  })

  it('rolls a release whose health fails back automatically, exit 3, the previous version answering', async () => {
    const productionBefore = containerStarts('berthtest-production')
    setVersion('v4-broken')
    const health = join(dir, 'web', 'www', 'health')
    renameSync(health, `${health}.off`)
    // The webhook's endpoint refuses it, echoing the path it was asked for (its token): a warning, masked, and still exit 3.
    webhooks.received.length = 0
    answer = () => ({ status: 404, body: `no hook at /${HOOK_PATH}` })
    try {
      const r = await notified(['deploy', 'staging'])
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toMatch(/service web failed: .*unhealthy/)
      expect(r.stderr).toContain('log lines of web')
      expect(r.stderr).toContain(`rolled back to ${tags.v1}`)
      expect(r.stderr).toContain('webhook #1 of staging was not delivered after 1 try (HTTP 404: no hook at ****); the deploy itself is unaffected')
    } finally {
      renameSync(`${health}.off`, health)
      answer = () => ({ status: 200 })
    }
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(activeTag('staging')).toBe(tags.v1)
    const releases = JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }
    expect(releases.releases[0]?.status).toBe('failed')
    expect(posted()).toMatchObject([
      { action: 'deploy', env: 'staging', release: releases.releases[0]?.tag, previous: tags.v1, result: 'rolled-back', reason: expect.stringContaining(`rolled back to ${tags.v1}`) as unknown },
    ])
    expect(containerStarts('berthtest-production')).toEqual(productionBefore)
  }, 45_000)

  it('keeps the active record when re-deploying the active release with --tag fails (exit 3)', async () => {
    expect(activeTag('staging')).toBe(tags.v1)
    const compose = join(dir, 'compose.yaml')
    const original = readFileSync(compose, 'utf8')
    // Today's config with a healthcheck that cannot pass: the same images, a broken release.
    writeFileSync(compose, original.replace('"http://127.0.0.1:8080/health"]', '"http://127.0.0.1:8080/nothing-here"]'))
    try {
      const r = berth(dir, ['deploy', 'staging', '--tag', tags.v1])
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toContain(`rolled back to ${tags.v1}`)
    } finally {
      writeFileSync(compose, original)
    }
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    const releases = JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }
    expect(releases.releases.find((x) => x.tag === tags.v1)?.status).toBe('active')
    const doctor = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as { checks: { id: string; status: string }[] }
    expect(doctor.checks.find((c) => c.id === 'drift')?.status).toBe('ok')
  })

  it.each([
    [['deploy', '../x'], /environment name/],
    [['deploy', 'Prod'], /environment name/],
    [['deploy', ''], /environment name/],
    [['deploy', 'qa'], /unknown environment|no environment/i],
    [['rollback', 'production', '--to', '20200101-000000'], /no release 20200101-000000/],
  ])('refuses %j with exit 2 and leaves the engine and records unchanged', (args, message) => {
    expectRefused(dir, args, 2, message)
  })

  it('lists the available releases when the rollback target is unknown', () => {
    const r = berth(dir, ['rollback', 'staging', '--to', '20200101-000000'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(tags.v2)
  })

  it('reports both environments in one JSON document on stdout', () => {
    const r = berth(dir, ['status', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as { environments: { environment: string; release: string; services: { service: string; state: string; health: string }[] }[] }
    const byName = Object.fromEntries(report.environments.map((e) => [e.environment, e]))
    expect(byName.staging?.release).toBe(tags.v1)
    expect(byName.production?.release).toBe(tags.v1)
    for (const env of report.environments) {
      expect(env.services.map((s) => s.service).sort()).toEqual(['store', 'web'])
      expect(env.services.every((s) => s.state === 'running' && s.health === 'healthy')).toBe(true)
    }
  })

  it('keeps state private: 0700 directories and 0600 files', () => {
    const mode = (p: string) => (statSync(join(dir, '.berth', p)).mode & 0o777).toString(8)
    expect(mode('.')).toBe('700')
    expect(mode('staging')).toBe('700')
    expect(mode('staging/releases')).toBe('700')
    expect(mode('staging/releases.json')).toBe('600')
    const records = JSON.parse(readFileSync(join(dir, '.berth', 'staging', 'releases.json'), 'utf8')) as { releases: { configFile: string }[] }
    for (const r of records.releases) expect(mode(`staging/releases/${r.configFile}`)).toBe('600')
  })

  it('never printed a secret value, nor recorded one in the audit log', () => {
    const all = [...seenOutput, readFileSync(join(dir, '.berth', 'staging', 'audit.log'), 'utf8')].join('\n')
    for (const secret of SECRETS) expect(all).not.toContain(secret)
  })
})
