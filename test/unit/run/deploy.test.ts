import { chmod } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { EngineUnavailableError, NeedsPersonError, PreflightError, RolledBackError } from '../../../src/errors.js'
import { type DeployRequest, deploy } from '../../../src/run/deploy.js'
import { releaseRecord, resolvedConfig, sourceModelJson, useTestApp, withEnvironment } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { callsTo, COMPOSE_VERSION, containers, DOCKER_VERSION, expectSequence, type FakeRunner, fakeRunner, filesOf, psOf } from '../support/fakeRunner.js'
import { auditOf, givenReleases, lockOf, releasesOf, statusesOf } from '../support/state.js'

const app = useTestApp()

/** The tag a deploy at FLOW_START gives its release. */
const NEW = '20261122-100000'
const PREVIOUS = '20261121-090000'
const OLDER = '20261120-090000'

const request = (over: Partial<DeployRequest> = {}): DeployRequest => ({ config: app.config, envName: 'staging', confirm: async () => true, command: 'berth deploy staging', ...over })

/** What every deploy runs before it takes the lock: git's version (for the labels), the engine check, and compose's parse of the operator's files. */
function preflight(runner: FakeRunner, model = sourceModelJson()): FakeRunner {
  return runner
    .expect('git describe --always --dirty', { stdout: 'v1.4.0\n' })
    .expect('docker version', DOCKER_VERSION)
    .expect('docker compose version', COMPOSE_VERSION)
    .expect('docker compose -p shop-staging config --format json', { stdout: model })
}
const PREFLIGHT = ['git describe --always --dirty', 'docker version', 'docker compose version', 'docker compose -p shop-staging config --format json']

/** Locked: the tags with images (a new tag must not reuse one), the release's resolved config, the build. */
function prepareAndBuild(runner: FakeRunner): FakeRunner {
  return runner
    .expect('docker image ls --filter label=berth.app=shop', { stdout: '' })
    .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', NEW) })
    .expect('docker compose -p shop-staging build web')
}
const PREPARE_AND_BUILD = ['docker image ls --filter label=berth.app=shop', 'docker compose -p shop-staging config --format yaml', 'docker compose -p shop-staging build web']

const healthy = containers('shop-staging', { web: 'running', db: 'healthy' })
const webExited = containers('shop-staging', { web: 'exited', db: 'healthy' })

describe('deploy (recreate)', () => {
  it('builds, applies, waits until healthy, records the release active and applies retention', async () => {
    const config = withEnvironment(app.config, 'staging', { keep: 2 })
    await givenReleases(config, 'staging', [releaseRecord(PREVIOUS, 'active'), releaseRecord(OLDER, 'previous')])
    const runner = prepareAndBuild(preflight(fakeRunner()))
      .expect('docker compose -p shop-staging up --detach --no-build --remove-orphans')
      .expect(psOf('shop-staging'), containers('shop-staging', { web: 'starting', db: 'healthy' }))
      .expect(psOf('shop-staging'), healthy)
      .expect(`docker image rm shop-web:${OLDER}`)
    const { deps } = flowDeps(app.config, runner.run)

    const result = await deploy(request({ config }), deps)

    expectSequence(runner, [
      ...PREFLIGHT,
      ...PREPARE_AND_BUILD,
      'docker compose -p shop-staging up --detach --no-build --remove-orphans',
      psOf('shop-staging'),
      psOf('shop-staging'),
      `docker image rm shop-web:${OLDER}`,
    ])
    expect(result).toMatchObject({ tag: NEW, previous: PREVIOUS, built: [`shop-web:${NEW}`], removedImages: [`shop-web:${OLDER}`] })
    const [record] = await releasesOf(config, 'staging')
    // The release's own recorded config is what `up` applied.
    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[record?.configFile]])
    expect(record).toMatchObject({ tag: NEW, status: 'active', git: 'v1.4.0', builtImages: [`shop-web:${NEW}`], configHashes: { web: 'hash-shop-staging-web', db: 'hash-shop-staging-db' } })
    expect(await statusesOf(config, 'staging')).toEqual([`${NEW} active`, `${PREVIOUS} previous`])
    expect(await auditOf(config, 'staging')).toMatchObject([{ action: 'deploy', tag: NEW, from: PREVIOUS, result: 'ok' }])
    expect(await lockOf(config, 'staging')).toBeUndefined()
  })

  it('promotes --tag without building: its images must be on the host', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const promoted = '20261121-120000'
    const runner = preflight(fakeRunner())
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: `shop-web:${promoted}\npostgres:16\n` })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', promoted) })
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    const result = await deploy(request({ tag: promoted }), deps)

    expectSequence(runner, [...PREFLIGHT, 'docker image ls --format {{.Repository}}:{{.Tag}}', 'docker compose -p shop-staging config --format yaml', 'docker compose -p shop-staging up', psOf('shop-staging')])
    expect(result).toMatchObject({ tag: promoted, built: [] })
    expect(await statusesOf(app.config, 'staging')).toEqual([`${promoted} active`, `${PREVIOUS} previous`])
  })

  describe('a release that is not healthy', () => {
    it('shows the failing service\'s logs, records it failed, re-applies the previous release and exits 3', async () => {
      const [previous] = await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
      let recordedBeforeRestore: string[] = []
      const runner = prepareAndBuild(preflight(fakeRunner()))
        .expect('docker compose -p shop-staging up')
        .expect(psOf('shop-staging'), webExited)
        .expect('docker compose -p shop-staging logs --no-color --tail 50 web', { stdout: 'web-1  | Error: DATABASE_URL refused\n' })
        .expect('docker compose -p shop-staging up', async () => {
          recordedBeforeRestore = await statusesOf(app.config, 'staging')
          return {}
        })
        .expect(psOf('shop-staging'), healthy)
      const { deps, told } = flowDeps(app.config, runner.run)

      const error = await deploy(request(), deps).catch((e: unknown) => e)

      expectSequence(runner, [
        ...PREFLIGHT,
        ...PREPARE_AND_BUILD,
        'docker compose -p shop-staging up',
        psOf('shop-staging'),
        'docker compose -p shop-staging logs --no-color --tail 50 web',
        'docker compose -p shop-staging up',
        psOf('shop-staging'),
      ])
      expect(error).toBeInstanceOf(RolledBackError)
      expect(error).toMatchObject({ exitCode: 3, code: 'ROLLED_BACK', message: expect.stringContaining(`rolled back to ${PREVIOUS}`) as unknown })
      const [failed] = await releasesOf(app.config, 'staging')
      expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)).toEqual([[failed?.configFile], [previous?.configFile]])
      expect(told.blocks).toEqual([{ title: 'last 1 log lines of web:', lines: ['web-1  | Error: DATABASE_URL refused'] }])
      expect(recordedBeforeRestore).toEqual([`${NEW} failed`, `${PREVIOUS} active`])
      expect(await statusesOf(app.config, 'staging')).toEqual([`${NEW} failed`, `${PREVIOUS} active`])
      expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'deploy', tag: NEW, from: PREVIOUS, result: 'ROLLED_BACK' }])
    })

    it('exits 4 when the previous release is not healthy either, with the logs of both', async () => {
      await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
      const runner = prepareAndBuild(preflight(fakeRunner()))
        .expect('docker compose -p shop-staging up')
        .expect(psOf('shop-staging'), webExited)
        .expect('docker compose -p shop-staging logs --no-color --tail 50 web')
        .expect('docker compose -p shop-staging up')
        .expect(psOf('shop-staging'), webExited)
        .expect('docker compose -p shop-staging logs --no-color --tail 50 web')
      const { deps } = flowDeps(app.config, runner.run)

      const error = await deploy(request(), deps).catch((e: unknown) => e)

      expectSequence(runner, [
        ...PREFLIGHT,
        ...PREPARE_AND_BUILD,
        'docker compose -p shop-staging up',
        psOf('shop-staging'),
        'docker compose -p shop-staging logs --no-color --tail 50 web',
        'docker compose -p shop-staging up',
        psOf('shop-staging'),
        'docker compose -p shop-staging logs --no-color --tail 50 web',
      ])
      expect(error).toBeInstanceOf(NeedsPersonError)
      expect(error).toMatchObject({ exitCode: 4, message: expect.stringContaining(`rolling back to ${PREVIOUS} failed too`) as unknown })
      expect(await statusesOf(app.config, 'staging')).toEqual([`${NEW} failed`, `${PREVIOUS} active`])
    })

    it('exits 4 and leaves it running for inspection when there is no previous release', async () => {
      const runner = prepareAndBuild(preflight(fakeRunner()))
        .expect('docker compose -p shop-staging up')
        .expect(psOf('shop-staging'), webExited)
        .expect('docker compose -p shop-staging logs --no-color --tail 50 web')
      const { deps } = flowDeps(app.config, runner.run)

      const error = await deploy(request(), deps).catch((e: unknown) => e)

      expectSequence(runner, [...PREFLIGHT, ...PREPARE_AND_BUILD, 'docker compose -p shop-staging up', psOf('shop-staging'), 'docker compose -p shop-staging logs --no-color --tail 50 web'])
      expect(error).toMatchObject({ exitCode: 4, code: 'ROLLBACK_FAILED', message: expect.stringContaining('there is no earlier release to roll back to') as unknown })
      expect(await statusesOf(app.config, 'staging')).toEqual([`${NEW} failed`])
    })
  })

  it('records a failed build as failed and applies nothing', async () => {
    await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const runner = preflight(fakeRunner())
      .expect('docker image ls --filter label=berth.app=shop', { stdout: '' })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', NEW) })
      .expect('docker compose -p shop-staging build web', { exitCode: 1, stderr: 'failed to solve: npm ci exited 1' })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await deploy(request(), deps).catch((e: unknown) => e)

    expectSequence(runner, [...PREFLIGHT, ...PREPARE_AND_BUILD])
    expect(error).toMatchObject({ code: 'DOCKER_FAILED', exitCode: 1, message: expect.stringContaining('failed to solve: npm ci exited 1') as unknown })
    expect(await statusesOf(app.config, 'staging')).toEqual([`${NEW} failed`, `${PREVIOUS} active`])
    expect(await auditOf(app.config, 'staging')).toMatchObject([{ action: 'deploy', tag: NEW, result: 'DOCKER_FAILED' }])
  })

  it('keeps the record of the active release when a re-deploy of it (--tag) is not healthy', async () => {
    const [active] = await givenReleases(app.config, 'staging', [releaseRecord(PREVIOUS, 'active')])
    const runner = preflight(fakeRunner())
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: `shop-web:${PREVIOUS}\n` })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', PREVIOUS) })
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), webExited)
      .expect('docker compose -p shop-staging logs --no-color --tail 50 web')
      .expect('docker compose -p shop-staging up')
      .expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)

    await expect(deploy(request({ tag: PREVIOUS }), deps)).rejects.toBeInstanceOf(RolledBackError)

    expect(callsTo(runner, 'docker compose -p shop-staging up').map(filesOf)[1]).toEqual([active?.configFile])
    expect(await releasesOf(app.config, 'staging')).toEqual([active])
  })
})

describe('deploy refuses before anything changes', () => {
  /** Nothing was locked, audited or recorded. */
  async function expectNothingChanged(): Promise<void> {
    expect(await lockOf(app.config, 'staging')).toBeUndefined()
    expect(await auditOf(app.config, 'staging')).toEqual([])
    expect(await releasesOf(app.config, 'staging')).toEqual([])
  }

  it('a service with a fixed container_name (exit 2)', async () => {
    const runner = preflight(fakeRunner(), sourceModelJson({ web: { build: { context: '.' }, container_name: 'shop-web' } }))
    const { deps } = flowDeps(app.config, runner.run)

    await expect(deploy(request(), deps)).rejects.toMatchObject({ code: 'FIXED_CONTAINER_NAME', exitCode: 2 })
    expectSequence(runner, PREFLIGHT)
    await expectNothingChanged()
  })

  it('a published port another project holds (exit 2)', async () => {
    const runner = preflight(fakeRunner(), sourceModelJson({ web: { build: { context: '.' }, ports: [{ target: 80, published: '8080' }] } }))
      .expect('docker ps --all --no-trunc --format', containers('blog-production', { web: 'running' }, { web: '0.0.0.0:8080->80/tcp' }))
    const { deps } = flowDeps(app.config, runner.run)

    await expect(deploy(request(), deps)).rejects.toMatchObject({ code: 'PORT_IN_USE', exitCode: 2, message: expect.stringContaining('host port 8080/tcp (service web) is already published by compose project blog-production') as unknown })
    expectSequence(runner, [...PREFLIGHT, 'docker ps --all --no-trunc --format'])
    await expectNothingChanged()
  })

  it('--tag of a release whose images are not on the host (exit 2), naming those that are', async () => {
    const runner = preflight(fakeRunner())
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: 'postgres:16\n' })
      .expect('docker image ls --filter label=berth.app=shop', { stdout: JSON.stringify({ Repository: 'shop-web', Tag: PREVIOUS }) })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await deploy(request({ tag: '20261122-080000' }), deps).catch((e: unknown) => e)

    expectSequence(runner, [...PREFLIGHT, 'docker image ls --format {{.Repository}}:{{.Tag}}', 'docker image ls --filter label=berth.app=shop'])
    expect(error).toBeInstanceOf(PreflightError)
    expect(error).toMatchObject({ code: 'RELEASE_IMAGES_MISSING', exitCode: 2, hint: `Releases with images here: ${PREVIOUS}` })
    await expectNothingChanged()
  })

  it('an engine that does not answer (exit 6), before an error of the env file', async () => {
    const config = withEnvironment(app.config, 'staging', { required: ['SECRET_KEY'] })
    const runner = fakeRunner()
      .expect('git describe', { exitCode: 128, stderr: 'fatal: not a git repository' })
      .expect('docker version', { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await deploy(request({ config }), deps).catch((e: unknown) => e)

    expectSequence(runner, ['git describe', 'docker version'])
    expect(error).toBeInstanceOf(EngineUnavailableError)
    expect(error).toMatchObject({ exitCode: 6, message: expect.stringContaining('Is the docker daemon running?') as unknown })
    await expectNothingChanged()
  })

  it('warns at once of an env file other users can read (the doctor check), even when the engine then refuses', async () => {
    const envFile = join(app.dir, 'environments', 'staging.env')
    await chmod(envFile, 0o640)
    const engineDown = () =>
      fakeRunner()
        .expect('git describe', { exitCode: 128, stderr: 'fatal: not a git repository' })
        .expect('docker version', { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' })
        .expect('docker compose version', COMPOSE_VERSION)
    const { deps, told } = flowDeps(app.config, engineDown().run)

    await expect(deploy(request(), deps)).rejects.toBeInstanceOf(EngineUnavailableError)
    expect(told.warnings).toEqual([`${envFile} holds staging's secrets and is mode 640: open to its group; chmod 600 ${envFile}`])
    expect(told.steps).toEqual([])
    await chmod(envFile, 0o600)
    const { deps: again, told: quiet } = flowDeps(app.config, engineDown().run)
    await expect(deploy(request(), again)).rejects.toBeInstanceOf(EngineUnavailableError)
    expect(quiet.warnings).toEqual([])
  })

  it('a confirm environment the operator does not confirm (exit 2)', async () => {
    const config = withEnvironment(app.config, 'staging', { confirm: true })
    const questions: string[] = []
    const runner = preflight(fakeRunner())
    const { deps } = flowDeps(app.config, runner.run)

    await expect(deploy(request({ config, confirm: async (q) => (questions.push(q), false) }), deps)).rejects.toMatchObject({ code: 'NOT_CONFIRMED', exitCode: 2 })
    expect(questions).toEqual(['Deploy a new release to staging?'])
    expectSequence(runner, PREFLIGHT)
    await expectNothingChanged()
  })
})
