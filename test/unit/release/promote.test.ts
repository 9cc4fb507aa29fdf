import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../src/config/types.js'
import { DockerCommandError } from '../../../src/errors.js'
import { copyReleaseImages, findImageSource, firstWithAll, imageIdentities, imageLoad, imageSave, otherEngines } from '../../../src/release/promote.js'
import type { Deps } from '../../../src/run/context.js'
import { localTarget } from '../../../src/target/local.js'
import type { Target } from '../../../src/target/target.js'
import { useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { expectSequence, type FakeRunner, fakeRunner } from '../support/fakeRunner.js'

const app = useTestApp()
const TAG = '20261121-090000'
const B = 'unix:///run/b.sock'

/** Staging on this machine's engine, production on host B: both answered by one scripted runner, told apart by --host. */
function twoEngines(runner: FakeRunner, deploying: 'staging' | 'production' = 'production'): { deps: Deps; local: Target; hostB: Target; told: ReturnType<typeof flowDeps>['told'] } {
  const local = localTarget({ run: runner.run, stateDir: app.config.stateDir })
  const hostB: Target = { ...localTarget({ run: runner.run, stateDir: app.config.stateDir, engine: { host: B } }), description: 'ssh://root@b' }
  const targetOf = (env: EnvironmentConfig) => (env.name === 'production' ? hostB : local)
  const { deps, told } = flowDeps(app.config, runner.run, { target: deploying === 'production' ? hostB : local, targetOf })
  return { deps, local, hostB, told }
}

describe('argv of a promotion', () => {
  it('saves on one engine, loads on another, and reads IDs and sizes in the order asked', () => {
    expect(imageSave({}, ['shop-web:1', 'shop-worker:1'])).toEqual(['docker', 'image', 'save', 'shop-web:1', 'shop-worker:1'])
    expect(imageLoad({ host: B })).toEqual(['docker', '--host', B, 'image', 'load'])
    expect(imageIdentities({ context: 'prod' }, ['shop-web:1'])).toEqual(['docker', '--context', 'prod', 'image', 'inspect', '--format', '{{.Id}} {{.Size}}', 'shop-web:1'])
  })
})

describe('otherEngines', () => {
  it("names each other engine once, never the deploy's own", () => {
    const runner = fakeRunner()
    const config = { environments: new Map([...app.config.environments, ['qa', { ...(app.config.environments.get('staging') as EnvironmentConfig), name: 'qa' }]]) }
    const { deps } = twoEngines(runner)
    expect(otherEngines(deps, config).map((e) => e.name)).toEqual(['staging'])
    const fromStaging = twoEngines(runner, 'staging')
    expect(otherEngines(fromStaging.deps, config).map((e) => e.name)).toEqual(['production'])
    expect(otherEngines({ target: fromStaging.local, targetOf: () => fromStaging.local }, config)).toEqual([])
  })
})

describe('firstWithAll', () => {
  const target = (description: string) => ({ description }) as Target
  const refs = ['shop-web:1', 'shop-worker:1']

  it('takes the first engine that has every image, without waiting for one that does not answer', async () => {
    const [hanging, partial, full] = [target('hanging'), target('partial'), target('full')]
    const answers = new Map<Target, Promise<string[]>>([
      [hanging, new Promise(() => {})],
      [partial, Promise.resolve(['shop-worker:1'])],
      [full, Promise.resolve([])],
    ])
    const search = await firstWithAll([hanging, partial, full], refs, (t) => answers.get(t) as Promise<string[]>)
    expect(search.source).toBe(full)
  })

  it('when none has them all, says who has some and who could not be asked', async () => {
    const [none, partial, down] = [target('none'), target('partial'), target('down')]
    const answers = new Map<Target, () => Promise<string[]>>([
      [none, async () => refs],
      [partial, async () => ['shop-worker:1']],
      [down, async () => Promise.reject(new Error('ssh: connect to host b port 22: Connection refused\nmore'))],
    ])
    const search = await firstWithAll([none, partial, down], refs, (t) => (answers.get(t) as () => Promise<string[]>)())
    expect(search).toEqual({ partial: [{ target: partial, has: ['shop-web:1'] }], unreachable: [{ target: down, why: 'ssh: connect to host b port 22: Connection refused' }] })
  })

  it('answers at once when there is no other engine', async () => {
    expect(await firstWithAll([], refs, () => Promise.reject(new Error('not asked')))).toEqual({ partial: [], unreachable: [] })
  })
})

describe('findImageSource', () => {
  it("asks the other environments' engines with the image listing", async () => {
    const runner = fakeRunner().expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: `shop-web:${TAG}\npostgres:16\n` })
    const { deps, local } = twoEngines(runner)
    const search = await findImageSource(deps, app.config, [`shop-web:${TAG}`])
    expect(search.source).toBe(local)
    expectSequence(runner, ['docker image ls --format {{.Repository}}:{{.Tag}}'])
  })

  it('asks nobody when every environment runs on the same engine', async () => {
    const runner = fakeRunner()
    const { deps } = flowDeps(app.config, runner.run)
    expect(await findImageSource(deps, app.config, [`shop-web:${TAG}`])).toEqual({ partial: [], unreachable: [] })
    expectSequence(runner, [])
  })
})

describe('copyReleaseImages', () => {
  const source = (from: Target) => ({ from, refs: [`shop-web:${TAG}`, `shop-worker:${TAG}`], missing: [`shop-web:${TAG}`] })
  const inspect = (host?: string) => `docker ${host ? `--host ${host} ` : ''}image inspect --format {{.Id}} {{.Size}} shop-web:${TAG} shop-worker:${TAG}`
  const ids = { stdout: 'sha256:aaa 2000000\nsha256:bbb 3000000\n' }

  it('streams what the target lacks from the engine that has it, then checks every image ID arrived the same', async () => {
    const runner = fakeRunner()
      .expect(inspect(), ids)
      .expect(`docker --host ${B} image load`, { stdout: `Loaded image: shop-web:${TAG}` })
      .expect(inspect(B), ids)
    const { deps, local, told } = twoEngines(runner)

    await copyReleaseImages(deps, source(local), TAG)

    expectSequence(runner, [inspect(), `docker --host ${B} image load`, inspect(B)])
    expect(runner.calls[1]?.options.pipeFrom).toEqual(['docker', 'image', 'save', `shop-web:${TAG}`])
    expect(told.steps).toEqual([`copy ${TAG}'s images from the local engine to ssh://root@b`])
  })

  it("fails, naming each image, when an ID on the target is not the source's", async () => {
    const runner = fakeRunner()
      .expect(inspect(), ids)
      .expect(`docker --host ${B} image load`)
      .expect(inspect(B), { stdout: 'sha256:aaa 2000000\nsha256:ccc 3000000\n' })
    const { deps, local } = twoEngines(runner)

    const error = await copyReleaseImages(deps, source(local), TAG).catch((e: unknown) => e)

    expect(error).toMatchObject({
      code: 'UNEXPECTED',
      exitCode: 1,
      message: `the images of ${TAG} on ssh://root@b are not the ones on the local engine: shop-worker:${TAG} is sha256:ccc there but sha256:bbb on the local engine; nothing runs them yet`,
    })
  })

  it('copies the other way round, from host B to this machine', async () => {
    const runner = fakeRunner()
      .expect(inspect(B), ids)
      .expect('docker image load')
      .expect(inspect(), ids)
    const { deps, hostB } = twoEngines(runner, 'staging')
    await copyReleaseImages(deps, source(hostB), TAG)
    expect(runner.calls[1]?.options.pipeFrom).toEqual(['docker', '--host', B, 'image', 'save', `shop-web:${TAG}`])
  })

  it('lets a failed stream end the step with the side that failed', async () => {
    const runner = fakeRunner()
      .expect(inspect(), ids)
      .expect(`docker --host ${B} image load`, { exitCode: 1, stderr: 'write /var/lib/docker/tmp: no space left on device' })
    const { deps, local } = twoEngines(runner)
    const error = await copyReleaseImages(deps, source(local), TAG).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DockerCommandError)
    expect((error as DockerCommandError).message).toContain('no space left on device')
    expect(runner.pending()).toEqual([])
  })
})
