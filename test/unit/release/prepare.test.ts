import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

import { buildRelease, gitVersion, missingImages, prepareRelease, resolveModel, tagsWithImages } from '../../../src/release/prepare.js'
import { registerSecrets } from '../../../src/secrets.js'
import { environmentOf, resolvedConfig, sourceModel, sourceModelJson, useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { expectSequence, fakeRunner, filesOf } from '../support/fakeRunner.js'
import { recordedConfigOf } from '../support/state.js'

const app = useTestApp()

const TAG = '20261122-100000'
const staging = () => environmentOf(app.config, 'staging')

/** compose's options that select the operator's files and env file for staging, with `extra` files after them. */
const sourceFiles = (...extra: string[]) => [
  'docker', 'compose',
  '--project-name', 'shop-staging',
  '--project-directory', app.dir,
  '--file', join(app.dir, 'compose.yaml'),
  ...extra.flatMap((f) => ['--file', f]),
  '--env-file', join(app.dir, 'environments', 'staging.env'),
]

describe('resolveModel', () => {
  it("parses the operator's compose files with the environment's env file, and nothing else", async () => {
    const runner = fakeRunner().expect('docker compose -p shop-staging config --format json', { stdout: sourceModelJson() })
    const { deps } = flowDeps(app.config, runner.run)

    expect(await resolveModel(deps, staging())).toEqual(sourceModel())
    expect(runner.calls).toEqual([{ argv: [...sourceFiles(), 'config', '--format', 'json'], options: { allowFailure: true } }])
  })

  it("refuses a config compose cannot resolve, with compose's own error, masked (exit 2)", async () => {
    registerSecrets(['s3cr3t-value'])
    const runner = fakeRunner().expect('docker compose -p shop-staging config', { exitCode: 15, stderr: 'service "web" refers to undefined volume s3cr3t-value\n' })
    const { deps } = flowDeps(app.config, runner.run)

    await expect(resolveModel(deps, staging())).rejects.toMatchObject({
      code: 'COMPOSE_CONFIG_FAILED',
      exitCode: 2,
      message: 'docker compose config failed for staging:\nservice "web" refers to undefined volume ****',
    })
  })
})

describe('prepareRelease', () => {
  it("writes the override, resolves it over the operator's files and records the result without build sections", async () => {
    const runner = fakeRunner().expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', TAG) })
    const { deps } = flowDeps(app.config, runner.run, { now: () => new Date('2026-11-22T10:00:00.000Z') })

    const prepared = await prepareRelease(deps, app.config, staging(), sourceModel(), TAG, 'v1.4.0')

    expect(runner.calls.map((c) => c.argv)).toEqual([[...sourceFiles(prepared.overridePath), 'config', '--format', 'yaml']])
    expect(prepared).toMatchObject({
      tag: TAG,
      configFile: `${TAG}.${new Date('2026-11-22T10:00:00.000Z').getTime().toString(36)}.compose.yaml`,
      images: { web: `shop-web:${TAG}`, db: 'postgres:16' },
      builtImages: [`shop-web:${TAG}`],
      restartAdded: ['web'],
    })
    const override = parse(await readFile(prepared.overridePath, 'utf8')) as { services: Record<string, Record<string, unknown>> }
    expect(override.services.web).toEqual({
      labels: { 'berth.app': 'shop', 'berth.env': 'staging', 'berth.release': TAG },
      image: `shop-web:${TAG}`,
      build: { labels: { 'berth.app': 'shop', 'berth.release': TAG, 'berth.service': 'web', 'berth.git': 'v1.4.0' } },
      restart: 'unless-stopped',
    })
    const recorded = await recordedConfigOf(app.config, 'staging', prepared.configFile)
    expect(recorded.split('\n')[0]).toBe(`# berth release ${TAG} of shop/staging`)
    expect((parse(recorded) as { services: Record<string, object> }).services.web).not.toHaveProperty('build')
  })
})

describe('prepareRelease of a recorded tag (deploy --tag)', () => {
  it('applies the recorded file as it is when it was made from the same sources and is still there; asks compose again otherwise', async () => {
    const runner = fakeRunner()
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', TAG) })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', TAG) })
      .expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', TAG) })
    let now = new Date('2026-11-22T10:00:00.000Z')
    const { deps } = flowDeps(app.config, runner.run, { now: () => now })
    const first = await prepareRelease(deps, app.config, staging(), sourceModel(), TAG, 'v1.4.0')
    expect(first.sourceHash).toMatch(/^[0-9a-f]{64}$/)
    expect(runner.calls).toHaveLength(1)

    // Another checkout's git version changes only the build labels, which the record drops: the same file.
    now = new Date('2026-11-22T11:00:00.000Z')
    const again = await prepareRelease(deps, app.config, staging(), sourceModel(), TAG, 'v1.5.0', first)
    expect(runner.calls).toHaveLength(1)
    expect(again).toMatchObject({ configFile: first.configFile, sourceHash: first.sourceHash, images: first.images })

    // The operator's config changed since: compose resolves it again, into a file of its own.
    const changed = sourceModel()
    ;(changed.services.web as Record<string, unknown>).environment = { APP_ENV: 'changed' }
    const fresh = await prepareRelease(deps, app.config, staging(), changed, TAG, undefined, first)
    expect(runner.calls).toHaveLength(2)
    expect(fresh.configFile).not.toBe(first.configFile)
    expect(fresh.sourceHash).not.toBe(first.sourceHash)

    // The recorded file is gone: resolved again too.
    await rm(join(app.dir, '.berth', 'staging', 'releases', first.configFile))
    now = new Date('2026-11-22T12:00:00.000Z')
    const rewritten = await prepareRelease(deps, app.config, staging(), sourceModel(), TAG, undefined, first)
    expect(runner.calls).toHaveLength(3)
    expect(rewritten.configFile).not.toBe(first.configFile)
    expect(rewritten.sourceHash).toBe(first.sourceHash)
  })
})

describe('buildRelease', () => {
  it('builds the services with a build section, with the override laid over, then removes the override', async () => {
    const runner = fakeRunner().expect('docker compose -p shop-staging config --format yaml', { stdout: resolvedConfig('shop', 'staging', TAG) }).expect('docker compose -p shop-staging build web')
    const { deps } = flowDeps(app.config, runner.run)
    const prepared = await prepareRelease(deps, app.config, staging(), sourceModel(), TAG)
    const updates: string[] = []

    await buildRelease(deps, staging(), sourceModel(), prepared, (m) => updates.push(m))

    expectSequence(runner, ['docker compose -p shop-staging config --format yaml', 'docker compose -p shop-staging build web'])
    expect(runner.calls[1]?.argv).toEqual([...sourceFiles(prepared.overridePath), 'build', 'web'])
    expect(filesOf(runner.calls[1]!)).toEqual(['compose.yaml', 'override.yaml'])
    expect(updates).toEqual(['building web'])
    await expect(stat(prepared.overridePath)).rejects.toThrow()
  })
})

describe('missingImages', () => {
  it('asks nothing for no images, and compares references as the engine names them', async () => {
    const runner = fakeRunner().expect('docker image ls --format {{.Repository}}:{{.Tag}}', { stdout: 'docker.io/library/postgres:16\nredis:latest\n' })
    const { deps } = flowDeps(app.config, runner.run)

    expect(await missingImages(deps, [])).toEqual([])
    expect(await missingImages(deps, ['postgres:16', 'redis', 'shop-web:X'])).toEqual(['shop-web:X'])
    expectSequence(runner, ['docker image ls --format {{.Repository}}:{{.Tag}}'])
  })
})

describe('tagsWithImages', () => {
  it("lists the tags of the app's labelled images once each, newest first", async () => {
    const rows = [['shop-web', 'A-20261120-090000'], ['shop-worker', 'A-20261120-090000'], ['shop-web', 'A-20261121-090000'], ['shop-web', '<none>']]
    const runner = fakeRunner().expect('docker image ls --filter label=berth.app=shop --format {{json .}}', { stdout: rows.map(([Repository, Tag]) => JSON.stringify({ Repository, Tag })).join('\n') })
    const { deps } = flowDeps(app.config, runner.run)

    expect(await tagsWithImages(deps, 'shop')).toEqual(['A-20261121-090000', 'A-20261120-090000'])
  })
})

describe('gitVersion', () => {
  it("describes the app directory's commit, and is undefined outside a repository", async () => {
    const runner = fakeRunner().expect('git describe --always --dirty', { stdout: 'v1.4.0-2-gabc123-dirty\n' }).expect('git describe', { exitCode: 128, stderr: 'fatal: not a git repository' })
    const { deps } = flowDeps(app.config, runner.run)

    expect(await gitVersion(deps, app.dir)).toBe('v1.4.0-2-gabc123-dirty')
    expect(await gitVersion(deps, app.dir)).toBeUndefined()
    expect(runner.calls[0]).toEqual({ argv: ['git', 'describe', '--always', '--dirty'], options: { cwd: app.dir, allowFailure: true } })
  })
})
