import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { resolveHooks } from '../../../src/config/hooks.js'
import { PreflightError } from '../../../src/errors.js'
import { type DeployRequest, deploy } from '../../../src/run/deploy.js'
import { rollback } from '../../../src/run/rollback.js'
import { releaseRecord, resolvedConfig, sourceModelJson, useTestApp, withEnvironment } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { containers, DOCKER_VERSION, COMPOSE_VERSION, expectSequence, type FakeRunner, fakeRunner, psOf } from '../support/fakeRunner.js'
import { auditOf, givenReleases, statusesOf } from '../support/state.js'

/** The flow around the hooks of a deploy (SPEC §11), with a scripted engine and real hook shells. */
const app = useTestApp()

const NEW = '20261122-100000'
const PREVIOUS = '20261121-090000'

const request = (config = app.config, over: Partial<DeployRequest> = {}): DeployRequest => ({ config, envName: 'staging', confirm: async () => true, command: 'berth deploy staging', ...over })

function preflight(runner: FakeRunner): FakeRunner {
  return runner
    .expect('git describe --always --dirty', { stdout: 'v1.4.0\n' })
    .expect('docker version', DOCKER_VERSION)
    .expect('docker compose version', COMPOSE_VERSION)
    .expect('docker compose -p shop-staging config --format json', { stdout: sourceModelJson() })
}
const PREFLIGHT = ['git describe --always --dirty', 'docker version', 'docker compose version', 'docker compose -p shop-staging config --format json']
const TAGS = 'docker image ls --filter label=berth.app=shop'

function healthyDeploy(runner: FakeRunner): FakeRunner {
  return runner
    .expect(TAGS, { stdout: '' })
    .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', NEW) })
    .expect('docker compose -p shop-staging build web')
    .expect('docker compose -p shop-staging up --detach --no-build --remove-orphans')
    .expect(psOf('shop-staging'), containers('shop-staging', { web: 'running', db: 'healthy' }))
}

/** The app with staging's env file holding a secret and the hooks given. */
async function withHooks(hooks: Parameters<typeof resolveHooks>[0]) {
  await writeFile(join(app.dir, 'environments', 'staging.env'), 'APP_ENV=staging\nDATABASE_URL=postgres://db/staging\nAPI_TOKEN=tok-9f3e1\n')
  return withEnvironment(app.config, 'staging', { hooks: resolveHooks(hooks, undefined) })
}

async function envWritten(file: string): Promise<Record<string, string>> {
  const text = await readFile(join(app.dir, file), 'utf8')
  return Object.fromEntries(text.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
}

describe('deploy hooks', () => {
  it('a failing pre_deploy refuses the deploy under the lock with nothing changed (exit 2), naming it and its last lines, masked', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const config = await withHooks({ pre_deploy: 'env > pre.env; echo "checking with tok-9f3e1"; echo "migrations pending" >&2; exit 7' })
    const runner = preflight(fakeRunner()).expect(TAGS, { stdout: '' })
    const { deps, told } = flowDeps(app.config, runner.run)

    const error = await deploy(request(config), deps).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(PreflightError)
    expect(error).toMatchObject({ code: 'HOOK_FAILED', exitCode: 2 })
    const message = (error as Error).message
    expect(message).toContain('pre_deploy hook failed (exit 7), so the deploy of staging was refused; nothing was changed')
    expect(message).toContain('migrations pending')
    expect(message).toContain('checking with ****')
    expect(message).not.toContain('tok-9f3e1')
    // Nothing after the tag was chosen: no resolved config written, no build, no up.
    expectSequence(runner, [...PREFLIGHT, TAGS])
    expect(await statusesOf(app.config, 'staging')).toEqual([`${PREVIOUS} active`])
    expect(told.steps).toEqual([expect.stringMatching(/^check staging/), 'pre_deploy hook: env > pre.env; echo "checking with tok-9f3e1"; echo "migr...'])
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'deploy', tag: NEW, result: 'HOOK_FAILED', hooks: [{ hook: 'pre_deploy', result: 'failed (exit 7)' }] }])
    const env = await envWritten('pre.env')
    expect(env).toMatchObject({ BERTH_APP: 'shop', BERTH_ENV: 'staging', BERTH_RELEASE: NEW, BERTH_PREVIOUS: PREVIOUS, BERTH_RESULT: 'pending', BERTH_HOOK: 'pre_deploy' })
    expect(env).not.toHaveProperty('API_TOKEN')
    expect(env).not.toHaveProperty('DATABASE_URL')
  })

  it('a failing post_deploy is reported and audited; the release stays active and the deploy succeeds', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const config = await withHooks({ post_deploy: { run: 'env > post.env; echo cache warm failed; exit 1', pass: ['API_TOKEN'] } })
    const runner = healthyDeploy(preflight(fakeRunner()))
    const { deps, told } = flowDeps(app.config, runner.run)

    const result = await deploy(request(config), deps)

    expect(result).toMatchObject({ tag: NEW, previous: PREVIOUS, hooks: [{ hook: 'post_deploy', result: 'failed (exit 1)' }] })
    expect(await statusesOf(app.config, 'staging')).toEqual([`${NEW} active`, `${PREVIOUS} previous`])
    expect(told.warnings.join('\n')).toMatch(/post_deploy hook failed \(exit 1\); the deploy of staging to 20261122-100000 stands \(nothing was undone\)[\s\S]*cache warm failed/)
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'deploy', tag: NEW, result: 'ok', hooks: [{ hook: 'post_deploy', result: 'failed (exit 1)' }] }])
    expect(await envWritten('post.env')).toMatchObject({ BERTH_RESULT: 'ok', BERTH_RELEASE: NEW, API_TOKEN: 'tok-9f3e1' })
  })

  it('on_failure runs after a failed deploy, with BERTH_RESULT and BERTH_REASON; the deploy error stays', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const config = await withHooks({ on_failure: 'env > failed.env', post_deploy: 'touch post-ran' })
    const runner = preflight(fakeRunner())
      .expect(TAGS, { stdout: '' })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', NEW) })
      .expect('docker compose -p shop-staging build web', { exitCode: 1, stderr: 'failed to solve: npm ci exited 1' })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await deploy(request(config), deps).catch((e: unknown) => e)

    expect(error).toMatchObject({ code: 'DOCKER_FAILED' })
    const env = await envWritten('failed.env')
    expect(env).toMatchObject({ BERTH_HOOK: 'on_failure', BERTH_RESULT: 'failed', BERTH_RELEASE: NEW, BERTH_PREVIOUS: PREVIOUS })
    expect(env.BERTH_REASON).toMatch(/build web failed \(exit 1\): failed to solve: npm ci exited 1$/)
    await expect(readFile(join(app.dir, 'post-ran'))).rejects.toThrow()
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ result: 'DOCKER_FAILED', hooks: [{ hook: 'on_failure', result: 'ok' }] }])
  })
})

describe('rollback hooks', () => {
  const OLDER = '20261120-090000'
  async function givenHistory() {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active'), releaseRecord(OLDER, 'previous')])
  }
  const checks = () =>
    fakeRunner()
      .expect('docker version', DOCKER_VERSION)
      .expect('docker compose version', COMPOSE_VERSION)
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: `shop-web:${PREVIOUS}\nshop-web:${OLDER}\npostgres:16\n` })
  const CHECKS = ['docker version', 'docker compose version', 'docker image ls --format {{.Repository}}:{{.Tag}}']
  const rollbackRequest = (config = app.config) => ({ config, envName: 'staging', imagesOnly: false, confirm: async () => true, command: 'berth rollback staging' })

  it('a failing pre_rollback refuses with nothing applied or recorded (exit 2)', async () => {
    await givenHistory()
    const config = await withHooks({ pre_rollback: 'env > pre.env; echo "not during the sale"; exit 1', on_failure: 'touch failure-ran' })
    const runner = checks()
    const { deps } = flowDeps(app.config, runner.run)

    const error = await rollback(rollbackRequest(config), deps).catch((e: unknown) => e)

    expect(error).toMatchObject({ code: 'HOOK_FAILED', exitCode: 2, message: expect.stringContaining('pre_rollback hook failed (exit 1), so the rollback of staging was refused') as unknown })
    expectSequence(runner, CHECKS)
    expect(await statusesOf(app.config, 'staging')).toEqual([`${PREVIOUS} active`, `${OLDER} previous`])
    expect(await envWritten('pre.env')).toMatchObject({ BERTH_ACTION: 'rollback', BERTH_RELEASE: OLDER, BERTH_PREVIOUS: PREVIOUS, BERTH_RESULT: 'pending' })
    await expect(readFile(join(app.dir, 'failure-ran'))).rejects.toThrow()
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'rollback', tag: OLDER, from: PREVIOUS, result: 'HOOK_FAILED' }])
  })

  it('post_rollback runs after the rollback is recorded; its failure leaves the rollback ok', async () => {
    await givenHistory()
    const config = await withHooks({ post_rollback: 'env > post.env; exit 2' })
    const runner = checks().expect('docker compose -p shop-staging up').expect(psOf('shop-staging'), containers('shop-staging', { web: 'running', db: 'healthy' }))
    const { deps, told } = flowDeps(app.config, runner.run)

    const result = await rollback(rollbackRequest(config), deps)

    expect(result).toMatchObject({ tag: OLDER, from: PREVIOUS, hooks: [{ hook: 'post_rollback', result: 'failed (exit 2)' }] })
    expect(await statusesOf(app.config, 'staging')).toEqual([`${PREVIOUS} rolled-back`, `${OLDER} active`])
    expect(told.warnings.join('\n')).toContain('post_rollback hook failed (exit 2); the rollback of staging to 20261120-090000 stands')
    expect(await envWritten('post.env')).toMatchObject({ BERTH_ACTION: 'rollback', BERTH_RESULT: 'ok', BERTH_RELEASE: OLDER, BERTH_PREVIOUS: PREVIOUS })
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'rollback', result: 'ok', hooks: [{ hook: 'post_rollback', result: 'failed (exit 2)' }] }])
  })
})
