import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, engineState, httpGet, requireEngine, startBerth } from './engine.js'
import { processRuns } from '../unit/support/processes.js'

/** SPEC §11 hooks around real deploys of the fixture app (recreate), on this engine. */
const APP = 'berthhook'
const PORTS = { staging: 18931, production: 18932 }
const STAGING = `http://127.0.0.1:${PORTS.staging}`
const SECRET = 'fixture-staging-token-4f9c'
const SHELL_SECRET = 'shell-secret-6d2a'

let dir: string

const DEPLOY_YML = `app: ${APP}
compose: [compose.yaml]
health:
  timeout: 20s
  interval: 1s
  http:
    - url: http://127.0.0.1:\${WEB_PORT}/health
      contains: ok
hooks:
  pre_deploy: { run: 'env > out/pre.env; sh hooks/pre.sh', timeout: 2s }
  post_deploy: { run: 'env > out/post.env; sh hooks/post.sh', pass: [SECRET_TOKEN] }
  on_failure: 'env > out/failure.env'
  pre_rollback: 'env > out/pre-rollback.env; sh hooks/pre.sh'
  post_rollback: 'env > out/post-rollback.env; sh hooks/post.sh'
environments:
  staging:
    env_file: env/staging.env
    required: [SECRET_TOKEN]
  production:
    env_file: env/production.env
    hooks: { pre_deploy: null }
`

function hooks(pre: string, post = 'exit 0'): void {
  writeFileSync(join(dir, 'hooks', 'pre.sh'), `${pre}\n`)
  writeFileSync(join(dir, 'hooks', 'post.sh'), `${post}\n`)
  rmSync(join(dir, 'out'), { recursive: true, force: true })
  mkdirSync(join(dir, 'out'))
}

function written(name: string): Record<string, string> {
  const text = readFileSync(join(dir, 'out', name), 'utf8')
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
}

function releases(): { tag: string; status: string }[] {
  return (JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }).releases
}

function lastAudit(): Record<string, unknown> {
  const lines = readFileSync(join(dir, '.berth', 'staging', 'audit.log'), 'utf8').trim().split('\n')
  return JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>
}

/** The engine and the records, all but the audit log (a refused run still writes its audit line). */
function stateWithoutAudit(): Record<string, unknown> {
  const all = engineState(join(dir, '.berth')) as { state: Record<string, string> }
  return { ...all, state: Object.fromEntries(Object.entries(all.state).filter(([file]) => !file.endsWith('audit.log'))) }
}

describe('hooks around a deploy', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ['staging', 'production'])
    dir = copyFixtureAs(APP, PORTS)
    writeFileSync(join(dir, 'deploy.yml'), DEPLOY_YML)
    mkdirSync(join(dir, 'hooks'))
    writeFileSync(join(dir, 'web', 'www', 'version'), 'v1\n')
  })

  afterAll(() => {
    cleanApp(APP, ['staging', 'production'])
  })

  it('runs pre_deploy and post_deploy with BERTH_*, the env file only through pass:, nothing of the shell; output streamed and masked', () => {
    hooks('echo "checking $BERTH_RELEASE"', 'echo "warming with $SECRET_TOKEN"')
    const r = berth(dir, ['deploy', 'staging'], { AWS_SECRET_ACCESS_KEY: SHELL_SECRET })
    expect(r.code, r.stderr).toBe(0)
    const tag = releases()[0]?.tag ?? ''
    expect(releases()[0]?.status).toBe('active')
    const pre = written('pre.env')
    expect(pre).toMatchObject({ BERTH_APP: APP, BERTH_ENV: 'staging', BERTH_RELEASE: tag, BERTH_PREVIOUS: '', BERTH_RESULT: 'pending', BERTH_HOST: hostname(), BERTH_HOOK: 'pre_deploy' })
    expect(pre.PWD).toBe(dir)
    // The env file's variables only when passed; the operator's shell secrets never.
    for (const key of ['SECRET_TOKEN', 'APP_ENV', 'WEB_PORT', 'AWS_SECRET_ACCESS_KEY']) expect(pre).not.toHaveProperty(key)
    const post = written('post.env')
    expect(post).toMatchObject({ BERTH_RESULT: 'ok', BERTH_RELEASE: tag, SECRET_TOKEN: SECRET })
    expect(post).not.toHaveProperty('AWS_SECRET_ACCESS_KEY')
    expect(r.stderr).toContain(`pre_deploy hook: env > out/pre.env; sh hooks/pre.sh: checking ${tag}`)
    expect(r.stderr).toContain('warming with ****')
    expect(r.stderr + r.stdout).not.toContain(SECRET)
    expect(lastAudit()).toMatchObject({ action: 'deploy', tag, result: 'ok', hooks: [{ hook: 'pre_deploy', result: 'ok' }, { hook: 'post_deploy', result: 'ok' }] })
  })

  it('a failing pre_deploy refuses with exit 2, naming it and its last lines, and changes nothing', () => {
    hooks('echo "migrations pending for $BERTH_ENV"; exit 4')
    const before = stateWithoutAudit()
    const r = berth(dir, ['deploy', 'staging'])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/pre_deploy hook failed \(exit 4\), so the deploy of staging was refused; nothing was changed\. Its last lines:\s+migrations pending for staging/)
    expect(stateWithoutAudit()).toEqual(before)
    expect(lastAudit()).toMatchObject({ action: 'deploy', result: 'HOOK_FAILED', hooks: [{ hook: 'pre_deploy', result: 'failed (exit 4)' }] })
    expect(existsSync(join(dir, 'out', 'failure.env')), 'a refused run is not a failed one: no on_failure').toBe(false)
  })

  it('a pre_deploy that hangs is killed at its timeout with its process group (exit 2, nothing changed)', () => {
    hooks('sleep 100 & echo $! > out/sleep.pid; wait')
    const before = stateWithoutAudit()
    const started = Date.now()
    const r = berth(dir, ['deploy', 'staging'])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain('pre_deploy hook timed out after 2s and was killed with its process group')
    expect(Date.now() - started).toBeLessThan(15_000)
    const sleeper = Number(readFileSync(join(dir, 'out', 'sleep.pid'), 'utf8'))
    expect(sleeper).toBeGreaterThan(0)
    expect(processRuns(sleeper)).toBe(false)
    expect(stateWithoutAudit()).toEqual(before)
  })

  it('an interrupted berth kills a running hook with its process group and releases the lock', async () => {
    hooks('sleep 100 & echo $! > out/sleep.pid; echo "hook ready"; wait')
    const before = stateWithoutAudit()
    const run = startBerth(dir, ['deploy', 'staging'])
    await run.waitFor(/hook ready/, 20_000)
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/deploy of staging interrupted by SIGINT: nothing was changed; the lock is released/)
    expect(processRuns(Number(readFileSync(join(dir, 'out', 'sleep.pid'), 'utf8')))).toBe(false)
    expect(existsSync(join(dir, '.berth', 'staging', 'lock'))).toBe(false)
    expect(stateWithoutAudit()).toEqual(before)
    expect(lastAudit()).toMatchObject({ result: 'INTERRUPTED' })
  })

  it('a failing post_deploy is reported and audited; the release is live and the exit code 0', async () => {
    hooks('exit 0', 'echo "cache warm-up failed"; exit 1')
    const previous = releases()[0]?.tag
    writeFileSync(join(dir, 'web', 'www', 'version'), 'v2\n')
    const r = berth(dir, ['deploy', 'staging', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const tag = releases()[0]?.tag
    expect(tag).not.toBe(previous)
    expect(releases()[0]?.status).toBe('active')
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v2' })
    expect(r.stderr).toMatch(/post_deploy hook failed \(exit 1\); the deploy of staging to \S+ stands \(nothing was undone\)[\s\S]*cache warm-up failed/)
    expect(JSON.parse(r.stdout)).toMatchObject({ tag, hooks: [{ hook: 'pre_deploy', result: 'ok' }, { hook: 'post_deploy', result: 'failed (exit 1)' }] })
    expect(lastAudit()).toMatchObject({ action: 'deploy', tag, result: 'ok', hooks: [{ hook: 'pre_deploy' }, { hook: 'post_deploy', result: 'failed (exit 1)' }] })
    expect(written('post.env').BERTH_PREVIOUS).toBe(previous)
  })

  it('on_failure runs after a deploy that failed and rolled back, with BERTH_RESULT and the reason; post_deploy does not', async () => {
    hooks('exit 0')
    const good = releases()[0]?.tag
    writeFileSync(join(dir, 'web', 'www', 'version'), 'v3-broken\n')
    const health = join(dir, 'web', 'www', 'health')
    renameSync(health, `${health}.off`)
    try {
      const r = berth(dir, ['deploy', 'staging'])
      expect(r.code, r.stderr).toBe(3)
    } finally {
      renameSync(`${health}.off`, health)
    }
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v2' })
    const failed = releases()[0]
    expect(failed?.status).toBe('failed')
    const env = written('failure.env')
    expect(env).toMatchObject({ BERTH_HOOK: 'on_failure', BERTH_RESULT: 'rolled-back', BERTH_RELEASE: failed?.tag, BERTH_PREVIOUS: good })
    expect(env.BERTH_REASON).toMatch(/unhealthy/)
    expect(env.BERTH_REASON).not.toContain(SECRET)
    expect(existsSync(join(dir, 'out', 'post.env'))).toBe(false)
    expect(lastAudit()).toMatchObject({ result: 'ROLLED_BACK', hooks: [{ hook: 'pre_deploy', result: 'ok' }, { hook: 'on_failure', result: 'ok' }] })
  })

  it('a failing pre_rollback refuses the rollback with exit 2, naming it and its last lines, and changes nothing', async () => {
    hooks('echo "rollbacks frozen during the sale"; exit 5')
    const before = stateWithoutAudit()
    const r = berth(dir, ['rollback', 'staging'])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/pre_rollback[\s\S]*rollbacks frozen during the sale/)
    expect(stateWithoutAudit()).toEqual(before)
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v2' })
    expect(lastAudit()).toMatchObject({ action: 'rollback', result: 'HOOK_FAILED', hooks: [{ hook: 'pre_rollback', result: 'failed (exit 5)' }] })
  })

  it('runs pre_rollback and post_rollback around a rollback, with the release rolled back to and the one it replaced', async () => {
    hooks('exit 0', 'echo "rolled back to $BERTH_RELEASE"')
    const active = releases().find((x) => x.status === 'active')?.tag
    const r = berth(dir, ['rollback', 'staging'])
    expect(r.code, r.stderr).toBe(0)
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    const now = releases().find((x) => x.status === 'active')?.tag
    expect(now).not.toBe(active)
    expect(written('pre-rollback.env')).toMatchObject({ BERTH_HOOK: 'pre_rollback', BERTH_ENV: 'staging', BERTH_RELEASE: now, BERTH_PREVIOUS: active, BERTH_RESULT: 'pending' })
    expect(written('post-rollback.env')).toMatchObject({ BERTH_HOOK: 'post_rollback', BERTH_RELEASE: now, BERTH_PREVIOUS: active, BERTH_RESULT: 'ok' })
    expect(r.stderr).toContain(`rolled back to ${now}`)
    expect(lastAudit()).toMatchObject({ action: 'rollback', result: 'ok', hooks: [{ hook: 'pre_rollback', result: 'ok' }, { hook: 'post_rollback', result: 'ok' }] })
  })
})
