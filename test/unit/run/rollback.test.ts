import { describe, expect, it } from 'vitest'

import { RolledBackError } from '../../../src/errors.js'
import { rollback, type RollbackRequest } from '../../../src/run/rollback.js'
import { releaseRecord, resolvedConfig, sourceModelJson, useTestApp, withEnvironment } from '../support/config.js'
import { startWebhookServer } from '../support/webhookServer.js'
import { flowDeps } from '../support/deps.js'
import { callsTo, COMPOSE_VERSION, containers, DOCKER_VERSION, expectSequence, type FakeRunner, fakeRunner, filesOf, psOf } from '../support/fakeRunner.js'
import { auditOf, givenReleases, lockOf, releasesOf, statusesOf } from '../support/state.js'

const app = useTestApp()

const ACTIVE = '20261121-090000'
const PREVIOUS = '20261120-090000'
const OLDER = '20261119-090000'

const request = (over: Partial<RollbackRequest> = {}): RollbackRequest => ({ config: app.config, envName: 'staging', imagesOnly: false, confirm: async () => true, command: 'berth rollback staging', ...over })

/** staging ran OLDER, then PREVIOUS, and runs ACTIVE now. */
async function givenHistory() {
  const [active, previous, older] = await givenReleases(app.config, 'staging', [releaseRecord(ACTIVE, 'active'), releaseRecord(PREVIOUS, 'previous'), releaseRecord(OLDER, 'superseded')])
  return { active: active!, previous: previous!, older: older! }
}

/** The engine check, and the listing of the images on the host that tells whether the target's are still there. */
function engineWithImages(runner: FakeRunner, images: string[]): FakeRunner {
  return runner
    .expect('docker version', DOCKER_VERSION)
    .expect('docker compose version', COMPOSE_VERSION)
    .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: `${images.join('\n')}\n` })
}
const CHECKS = ['docker version', 'docker compose version', 'docker image ls --format {{.Repository}}:{{.Tag}}']
const ALL_IMAGES = [`shop-web:${ACTIVE}`, `shop-web:${PREVIOUS}`, `shop-web:${OLDER}`, 'postgres:16']

const healthy = containers('shop-staging', { web: 'running', db: 'healthy' })

describe('rollback (recreate)', () => {
  it("re-applies the previous release's recorded config and makes it active; the one it replaced is rolled-back", async () => {
    const { previous } = await givenHistory()
    const runner = engineWithImages(fakeRunner(), ALL_IMAGES).expect('docker compose -p shop-staging up --detach --no-build --remove-orphans').expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    const result = await rollback(request(), deps)

    expectSequence(runner, [...CHECKS, 'docker compose -p shop-staging up --detach --no-build --remove-orphans', psOf('shop-staging')])
    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[previous.configFile]])
    expect(result).toMatchObject({ tag: PREVIOUS, from: ACTIVE, imagesOnly: false })
    expect(await statusesOf(app.config, 'staging')).toEqual([`${ACTIVE} rolled-back`, `${PREVIOUS} active`, `${OLDER} previous`])
    expect((await releasesOf(app.config, 'staging'))[1]?.configHashes).toEqual({ web: 'hash-shop-staging-web', db: 'hash-shop-staging-db' })
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'rollback', tag: PREVIOUS, from: ACTIVE, result: 'ok' }])
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
  })

  it('re-applies the release --to names', async () => {
    const { older } = await givenHistory()
    const runner = engineWithImages(fakeRunner(), ALL_IMAGES).expect('docker compose -p shop-staging up').expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    await rollback(request({ to: OLDER }), deps)

    expectSequence(runner, [...CHECKS, 'docker compose -p shop-staging up', psOf('shop-staging')])
    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[older.configFile]])
    expect(await statusesOf(app.config, 'staging')).toEqual([`${ACTIVE} rolled-back`, `${PREVIOUS} previous`, `${OLDER} active`])
  })

  it("--images-only applies today's compose config with the release's images, recorded as a config of its own", async () => {
    const { previous } = await givenHistory()
    const runner = fakeRunner()
      .expect('docker version', DOCKER_VERSION)
      .expect('docker compose version', COMPOSE_VERSION)
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: ALL_IMAGES.join('\n') })
      // Today's config must need no image the release lacks.
      .expect('docker compose -p shop-staging config --format json', { stdout: sourceModelJson() })
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: ALL_IMAGES.join('\n') })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', PREVIOUS) })
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    await rollback(request({ imagesOnly: true }), deps)

    expectSequence(runner, [
      ...CHECKS,
      'docker compose -p shop-staging config --format json',
      'docker image ls --format {{.Repository}}:{{.Tag}}',
      'docker compose -p shop-staging config --format yaml',
      'docker compose -p shop-staging up',
      psOf('shop-staging'),
    ])
    const applied = (await releasesOf(app.config, 'staging')).find((r) => r.tag === PREVIOUS)
    expect(applied?.status).toBe('active')
    expect(applied?.configFile).not.toBe(previous.configFile)
    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[applied?.configFile]])
  })

  it('puts the active release back and exits 3 when the target is not healthy; the records stay as they were', async () => {
    const { active, previous } = await givenHistory()
    const before = await releasesOf(app.config, 'staging')
    const runner = engineWithImages(fakeRunner(), ALL_IMAGES)
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), containers('shop-staging', { web: 'restarting', db: 'healthy' }))
      .expect('docker compose -p shop-staging logs --no-color --tail 50 web')
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await rollback(request(), deps).catch((e: unknown) => e)

    expectSequence(runner, [...CHECKS, 'docker compose -p shop-staging up', psOf('shop-staging'), 'docker compose -p shop-staging logs --no-color --tail 50 web', 'docker compose -p shop-staging up', psOf('shop-staging')])
    expect(error).toBeInstanceOf(RolledBackError)
    expect(error).toMatchObject({ exitCode: 3, message: expect.stringContaining(`rolled back to ${ACTIVE}`) as unknown })
    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[previous.configFile], [active.configFile]])
    expect(await releasesOf(app.config, 'staging')).toEqual(before)
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'rollback', tag: PREVIOUS, from: ACTIVE, result: 'ROLLED_BACK' }])
  })
})

describe('rollback: webhooks (SPEC §11)', () => {
  it('posts the outcome once the lock is released: the release it went back to, and the one it replaced', async () => {
    await givenHistory()
    const server = await startWebhookServer()
    try {
      const config = withEnvironment(app.config, 'staging', { notify: [{ url: `${server.origin}/deploys`, on: ['ok'] }] })
      const runner = engineWithImages(fakeRunner(), ALL_IMAGES).expect('docker compose -p shop-staging up').expect(psOf('shop-staging'), healthy)
      const { deps } = flowDeps(config, runner.run)

      await rollback(request({ config }), deps)

      expect(server.received.map((r) => JSON.parse(r.body) as unknown)).toMatchObject([{ action: 'rollback', app: 'shop', env: 'staging', release: PREVIOUS, previous: ACTIVE, result: 'ok' }])
    } finally {
      await server.close()
    }
  })
})

describe('rollback refuses before anything changes', () => {
  it('a release --to that staging does not have (exit 2), listing those it has', async () => {
    await givenHistory()
    const before = await releasesOf(app.config, 'staging')
    const runner = fakeRunner().expect('docker version', DOCKER_VERSION).expect('docker compose version', COMPOSE_VERSION)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await rollback(request({ to: '20260101-000000' }), deps).catch((e: unknown) => e)

    expectSequence(runner, ['docker version', 'docker compose version'])
    expect(error).toMatchObject({
      code: 'UNKNOWN_RELEASE',
      exitCode: 2,
      message: 'staging has no release 20260101-000000',
      hint: `Releases of staging that can be rolled back to: ${PREVIOUS} (previous), ${OLDER} (superseded). See: berth releases staging`,
    })
    expect(await releasesOf(app.config, 'staging')).toEqual(before)
    expect(await auditOf(app.config, 'staging')).toEqual([])
  })

  it('no previous release at all (exit 2)', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(ACTIVE, 'active')])
    const runner = fakeRunner().expect('docker version', DOCKER_VERSION).expect('docker compose version', COMPOSE_VERSION)
    const { deps } = flowDeps(app.config, runner.run)

    await expect(rollback(request(), deps)).rejects.toMatchObject({ code: 'UNKNOWN_RELEASE', message: 'staging has no previous release to roll back to' })
    expectSequence(runner, ['docker version', 'docker compose version'])
  })

  it('the active release itself (exit 2), saying how to re-apply it', async () => {
    await givenHistory()
    const runner = fakeRunner().expect('docker version', DOCKER_VERSION).expect('docker compose version', COMPOSE_VERSION)
    const { deps } = flowDeps(app.config, runner.run)

    await expect(rollback(request({ to: ACTIVE }), deps)).rejects.toMatchObject({ code: 'ALREADY_ACTIVE', hint: expect.stringContaining(`berth deploy staging --tag ${ACTIVE}`) as unknown })
    expectSequence(runner, ['docker version', 'docker compose version'])
  })

  it('a release whose images are gone from the host (exit 2), naming those that can still be restored', async () => {
    await givenHistory()
    const left = [`shop-web:${ACTIVE}`, `shop-web:${OLDER}`]
    const runner = engineWithImages(fakeRunner(), left).expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: left.join('\n') })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await rollback(request(), deps).catch((e: unknown) => e)

    expectSequence(runner, [...CHECKS, 'docker image ls --format {{.Repository}}:{{.Tag}}'])
    expect(error).toMatchObject({
      code: 'RELEASE_IMAGES_MISSING',
      exitCode: 2,
      message: `release ${PREVIOUS} of staging cannot be restored: shop-web:${PREVIOUS} is gone from this host`,
      hint: `Releases whose images are still here: ${OLDER} (superseded)`,
    })
    expect(await auditOf(app.config, 'staging')).toEqual([])
  })
})
