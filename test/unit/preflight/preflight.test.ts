import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../src/config/types.js'
import { EngineUnavailableError } from '../../../src/errors.js'

import type { Env } from '../../../src/health/gate.js'
import { refuseFixedNames, refuseMissingImages, refuseModel, refusePortClashes } from '../../../src/preflight/preflight.js'
import type { ComposeModel } from '../../../src/release/model.js'
import type { Deps } from '../../../src/run/context.js'
import { recreate } from '../../../src/strategy/recreate.js'
import { strategyOf } from '../../../src/strategy/strategy.js'
import { localTarget } from '../../../src/target/local.js'
import type { Target } from '../../../src/target/target.js'
import { environmentOf, sourceModel, useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { containers, expectSequence, fakeRunner } from '../support/fakeRunner.js'

const app = useTestApp()

function envOf(deps: Deps, name: string): Env {
  return { config: app.config, env: environmentOf(app.config, name), target: deps.target, vars: {} }
}

const PS_ALL = ['docker', 'ps', '--all', '--no-trunc', '--format', '{{json .}}']
const publishing: ComposeModel = sourceModel({ web: { build: { context: '.' }, ports: [{ target: 80, published: '8080' }] } })

describe('refuseFixedNames', () => {
  it('refuses every service with a container_name, naming each', () => {
    const model = sourceModel({ web: { container_name: 'web' }, db: { image: 'postgres:16', container_name: 'db' } })
    expect(() => refuseFixedNames(model, environmentOf(app.config, 'staging'))).toThrow(
      expect.objectContaining({ code: 'FIXED_CONTAINER_NAME', exitCode: 2, message: 'staging: web (container_name: web), db (container_name: db) have a fixed container_name, which would collide across environments' }),
    )
    expect(() => refuseFixedNames(sourceModel(), environmentOf(app.config, 'staging'))).not.toThrow()
  })
})

describe('refusePortClashes', () => {
  it('runs nothing for a model that publishes no port', async () => {
    const runner = fakeRunner()
    const { deps } = flowDeps(app.config, runner.run)
    await refusePortClashes(deps, sourceModel(), environmentOf(app.config, 'staging'), ['shop-staging'])
    expectSequence(runner, [])
  })

  it("refuses a port a running container of another project publishes, and lists every container's ports in one ps", async () => {
    const runner = fakeRunner().expect('docker ps', containers('blog-production', { web: 'running' }, { web: '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp' }))
    const { deps } = flowDeps(app.config, runner.run)

    const error = await refusePortClashes(deps, publishing, environmentOf(app.config, 'staging'), ['shop-staging']).catch((e: unknown) => e)

    expect(runner.calls.map((c) => c.argv)).toEqual([PS_ALL])
    expect(error).toMatchObject({
      code: 'PORT_IN_USE',
      exitCode: 2,
      message: 'staging: host port 8080/tcp (service web) is already published by compose project blog-production, container blog-production-web-1',
      hint: `Give staging its own port in ${environmentOf(app.config, 'staging').envFile}, or stop what holds it.`,
    })
  })

  it("passes a port held by the environment's own projects, or by a container that is not running", async () => {
    const runner = fakeRunner().expect('docker ps', {
      stdout: [
        containers('shop-staging', { web: 'running' }, { web: '0.0.0.0:8080->80/tcp' }).stdout,
        containers('blog-production', { web: 'exited' }, { web: '0.0.0.0:8080->80/tcp' }).stdout,
      ].join('\n'),
    })
    const { deps } = flowDeps(app.config, runner.run)
    await expect(refusePortClashes(deps, publishing, environmentOf(app.config, 'staging'), ['shop-staging'])).resolves.toBeUndefined()
    expectSequence(runner, ['docker ps --all --no-trunc --format {{json .}}'])
  })
})

describe('refuseModel', () => {
  it("asks the host's questions together — published ports, names on shared networks, address pools — after the model's own refusals", async () => {
    const model: ComposeModel = {
      services: { web: { build: { context: '.' }, ports: [{ target: 80, published: '8080' }], networks: { default: null, platform: null } } },
      networks: { default: { name: 'shop-staging_default' }, platform: { name: 'platform', external: true } },
    }
    const runner = fakeRunner()
      .expect('docker ps --all --no-trunc --format {{json .}}', { stdout: '' })
      .expect('docker ps --all --no-trunc --filter network=platform', { stdout: '' })
      .expect('docker network ls --format {{.Name}}', { stdout: 'bridge\nplatform\nshop-staging_default\n' })
    const { deps } = flowDeps(app.config, runner.run)

    await refuseModel(deps, envOf(deps, 'staging'), model, strategyOf(environmentOf(app.config, 'staging')))

    expectSequence(runner, ['docker ps --all --no-trunc --format {{json .}}', 'docker ps --all --no-trunc --filter network=platform', 'docker network ls --format {{.Name}}'])
  })

  it('refuses a fixed container_name before asking the host anything', async () => {
    const runner = fakeRunner()
    const { deps } = flowDeps(app.config, runner.run)
    const model = sourceModel({ web: { build: { context: '.' }, container_name: 'web', ports: [{ target: 80, published: '8080' }] } })

    await expect(refuseModel(deps, envOf(deps, 'staging'), model, strategyOf(environmentOf(app.config, 'staging')))).rejects.toMatchObject({ code: 'FIXED_CONTAINER_NAME' })
    expectSequence(runner, [])
  })

  it("blue-green: refuses a colour service that publishes a port itself, before asking the host anything", async () => {
    const runner = fakeRunner()
    const { deps } = flowDeps(app.config, runner.run)

    await expect(refuseModel(deps, envOf(deps, 'production'), publishing, strategyOf(environmentOf(app.config, 'production')))).rejects.toMatchObject({ code: 'COLOUR_PUBLISHES_PORT', exitCode: 2 })
    expectSequence(runner, [])
  })

  it("blue-green: checks the edge's listen ports against other projects, not against its own colours", async () => {
    const runner = fakeRunner().expect('docker ps', {
      stdout: [
        containers('shop-production-green', { web: 'running' }, { web: '0.0.0.0:8080->80/tcp' }).stdout,
        containers('blog-production', { web: 'running' }, { web: '0.0.0.0:8080->80/tcp' }).stdout,
      ].join('\n'),
    })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await refuseModel(deps, envOf(deps, 'production'), sourceModel(), strategyOf(environmentOf(app.config, 'production'))).catch((e: unknown) => e)

    expectSequence(runner, ['docker ps --all --no-trunc --format {{json .}}'])
    expect(error).toMatchObject({ code: 'PORT_IN_USE', message: 'production: host port 8080/tcp (service edge route) is already published by compose project blog-production, container blog-production-web-1' })
  })
})

describe('refuseMissingImages', () => {
  it("passes when the release's built images are on the host, in one image listing", async () => {
    const runner = fakeRunner().expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: 'shop-web:20261121-090000\ndocker.io/library/postgres:16\n' })
    const { deps } = flowDeps(app.config, runner.run)
    await refuseMissingImages(deps, envOf(deps, 'staging'), sourceModel(), '20261121-090000', recreate)
    expect(runner.calls.map((c) => c.argv)).toEqual([['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']])
  })

  it('refuses when one is missing, naming the releases that have images here', async () => {
    const runner = fakeRunner()
      .expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: 'postgres:16\n' })
      .expect('docker image ls --filter label=berth.app=shop', { stdout: ['20261120-090000', '20261121-090000', '<none>'].map((Tag) => JSON.stringify({ Repository: 'shop-web', Tag })).join('\n') })
    const { deps } = flowDeps(app.config, runner.run)

    const error = await refuseMissingImages(deps, envOf(deps, 'staging'), sourceModel(), '20261122-080000', recreate).catch((e: unknown) => e)

    expect(runner.calls.map((c) => c.argv)).toEqual([
      ['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'],
      ['docker', 'image', 'ls', '--filter', 'label=berth.app=shop', '--format', '{{json .}}'],
    ])
    expect(error).toMatchObject({
      code: 'RELEASE_IMAGES_MISSING',
      message: 'release 20261122-080000 cannot be deployed to staging: shop-web:20261122-080000 is not on this host',
      hint: 'Releases with images here: 20261121-090000, 20261120-090000',
    })
  })

  it('says to deploy without --tag when no release of the app has images here', async () => {
    const runner = fakeRunner().expect('docker image ls --format', { stdout: '' }).expect('docker image ls --filter label=berth.app=shop', { stdout: '' })
    const { deps } = flowDeps(app.config, runner.run)
    await expect(refuseMissingImages(deps, envOf(deps, 'staging'), sourceModel(), '20261122-080000', recreate)).rejects.toMatchObject({ hint: 'No release of shop has images here; deploy without --tag to build one.' })
    expectSequence(runner, ['docker image ls --format', 'docker image ls --filter label=berth.app=shop'])
  })
})

describe('refuseMissingImages across engines (SPEC §10)', () => {
  const TAG = '20261121-090000'
  const built = sourceModel({ worker: { build: { context: '.' } } })

  /** Production deploys to host B; staging runs on this machine; qa on host C, which does not answer. */
  function engines(runner: ReturnType<typeof fakeRunner>) {
    const local = localTarget({ run: runner.run, stateDir: app.config.stateDir })
    const hostB: Target = { ...localTarget({ run: runner.run, stateDir: app.config.stateDir, engine: { host: 'unix:///b.sock' } }), description: 'ssh://root@b' }
    const hostC: Target = {
      ...localTarget({ run: async () => Promise.reject(new EngineUnavailableError('cannot reach ssh://root@c: Connection refused')), stateDir: app.config.stateDir, engine: { host: 'unix:///c.sock' } }),
      description: 'ssh://root@c',
    }
    const config = { ...app.config, environments: new Map([...app.config.environments, ['qa', { ...environmentOf(app.config, 'staging'), name: 'qa' }]]) }
    const targetOf = (env: EnvironmentConfig) => ({ production: hostB, qa: hostC })[env.name as 'production' | 'qa'] ?? local
    const { deps, told } = flowDeps(app.config, runner.run, { target: hostB, targetOf })
    return { deps, told, local, e: { ...envOf(deps, 'production'), config } }
  }

  it("finds them all on another environment's engine: the deploy copies them from there", async () => {
    const runner = fakeRunner()
      .expect('docker --host unix:///b.sock image ls --format', { stdout: 'postgres:16\n' })
      .expect('docker image ls --format', { stdout: `shop-web:${TAG}\nshop-worker:${TAG}\n` })
    const { deps, told, local, e } = engines(runner)

    const source = await refuseMissingImages(deps, e, built, TAG, recreate)

    expect(source).toEqual({ from: local, refs: [`shop-web:${TAG}`, `shop-worker:${TAG}`], missing: [`shop-web:${TAG}`, `shop-worker:${TAG}`] })
    expect(told.infos).toEqual([`${TAG}'s images are on the local engine: they are copied to ssh://root@b once production is locked`])
  })

  it('refuses when no engine has them all, naming the engine with some and the one that could not be asked', async () => {
    const runner = fakeRunner()
      .expect('docker --host unix:///b.sock image ls --format', { stdout: `shop-worker:${TAG}\n` })
      .expect('docker image ls --format', { stdout: `shop-web:${TAG}\n` })
      .expect('docker --host unix:///b.sock image ls --filter label=berth.app=shop', { stdout: JSON.stringify({ Repository: 'shop-web', Tag: '20261120-090000' }) })
    const { deps, told, e } = engines(runner)

    const error = await refuseMissingImages(deps, e, built, TAG, recreate).catch((err: unknown) => err)

    expect(error).toMatchObject({
      code: 'RELEASE_IMAGES_MISSING',
      exitCode: 2,
      message: `release ${TAG} cannot be deployed to production: shop-web:${TAG} is not on ssh://root@b, and no other environment's engine has all of ${TAG}'s images`,
      hint: `Releases with images on ssh://root@b: 20261120-090000. Where ${TAG}'s images are: the local engine has shop-web:${TAG}; ssh://root@c could not be asked.`,
    })
    expect(told.warnings).toEqual([`could not ask ssh://root@c for ${TAG}'s images: cannot reach ssh://root@c: Connection refused`])
  })

  it('asks no other engine when this one has every image', async () => {
    const runner = fakeRunner().expect('docker --host unix:///b.sock image ls --format', { stdout: `shop-web:${TAG}\nshop-worker:${TAG}\n` })
    const { deps, e } = engines(runner)
    expect(await refuseMissingImages(deps, e, built, TAG, recreate)).toBeUndefined()
    expectSequence(runner, ['docker --host unix:///b.sock image ls --format'])
  })
})
