import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { Deps } from '../../../src/run/context.js'
import { classifyDrift, expectedHashes } from '../../../src/inspect/drift.js'
import { type ReleaseRecord, writeReleases } from '../../../src/state/releases.js'
import { status } from '../../../src/inspect/status.js'
import { inspectRestartPolicies, psAll } from '../../../src/docker/docker.js'
import { type Container, parsePs } from '../../../src/docker/parse.js'
import type { RunOptions, RunResult } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import { environmentConfig } from '../fixtures.js'
import { localTarget } from '../../../src/target/local.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'
import { localState } from '../../../src/target/local.js'
import { localFiles } from '../../../src/target/files.js'
import { COMPOSE_SCHEME } from '../../../src/names.js'
import { EngineUnavailableError } from '../../../src/errors.js'

const TAG = '20261122-093000'
const HASH = { web: 'a'.repeat(64), store: 'b'.repeat(64) }

/** One line of `docker ps --format` JSON, as the engine prints it. */
function psLine(name: string, image: string, labels: Record<string, string>, over: Record<string, string> = {}): string {
  return JSON.stringify({
    ID: `${name}-id`,
    Names: name,
    Image: image,
    State: 'running',
    Status: 'Up 5 minutes (healthy)',
    Ports: '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: '2026-11-22 09:30:05 +0000 UTC',
    ...over,
  })
}

/** Labels of a container berth's `up` created for release `tag`. */
function berthLabels(env: string, service: string, tag = TAG, hash = HASH[service as keyof typeof HASH]): Record<string, string> {
  return {
    'berth.app': 'shop',
    'berth.env': env,
    'berth.release': tag,
    'berth.service': service,
    'com.docker.compose.config-hash': hash,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.depends_on': 'store:service_healthy:false,migrate:service_completed_successfully:false',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.project': `shop-${env}`,
    'com.docker.compose.service': service,
    'com.docker.compose.version': '2.26.1',
  }
}

/** Labels a compose-built berth image carries, which `docker run` of it passes on to the container. */
const imageLabels = { 'berth.app': 'shop', 'berth.release': TAG, 'berth.service': 'web', 'com.docker.compose.project': 'shop-staging', 'com.docker.compose.service': 'web', 'com.docker.compose.version': '2.26.1' }

function ps(...lines: string[]): Container[] {
  return parsePs(lines.join('\n'), COMPOSE_SCHEME)
}

function record(over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    tag: TAG,
    deployedAt: '2026-11-22T09:30:00.000Z',
    by: 'deploy@host',
    status: 'active',
    images: { web: `shop-web:${TAG}`, store: `shop-store:${TAG}` },
    builtImages: [`shop-web:${TAG}`, `shop-store:${TAG}`],
    envHash: 'sha256:0',
    configFile: `${TAG}.compose.yaml`,
    ...over,
  }
}

const healthyStaging = () => ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, berthLabels('staging', 'web')), psLine('shop-staging-store-1', `shop-store:${TAG}`, berthLabels('staging', 'store')))

describe('container project', () => {
  it('is the project of a container compose created', () => {
    expect(healthyStaging()[0]?.project).toBe('shop-staging')
  })

  it('is none for a `docker run` of a compose-built image, whose project label is inherited', () => {
    const [manual] = ps(psLine('shop-web-manual', `shop-web:${TAG}`, imageLabels))
    expect(manual?.labels['com.docker.compose.project']).toBe('shop-staging')
    expect(manual?.project).toBeUndefined()
  })
})

describe('classifyDrift', () => {
  it('finds nothing when every container is the active release as recorded', () => {
    expect(classifyDrift({ active: record(), hashes: HASH, containers: healthyStaging(), composeVersion: '2.26.1-4' })).toEqual([])
  })

  it('reports a config hash other than the recorded config gives (an env value changed by hand)', () => {
    const other = 'c'.repeat(64)
    const containers = ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, berthLabels('staging', 'web', TAG, other)), psLine('shop-staging-store-1', `shop-store:${TAG}`, berthLabels('staging', 'store')))
    expect(classifyDrift({ active: record(), hashes: HASH, containers, composeVersion: '2.26.1' })).toEqual([
      { kind: 'config', service: 'web', container: 'shop-staging-web-1', expected: HASH.web, actual: other, message: `config differs from release ${TAG}: recreated with other settings or env values` },
    ])
  })

  it('says when a Compose upgrade alone may explain a different hash, ignoring distribution suffixes', () => {
    const labels = { ...berthLabels('staging', 'web', TAG, 'c'.repeat(64)), 'com.docker.compose.version': '2.24.0' }
    const [item] = classifyDrift({ active: record({ images: { web: `shop-web:${TAG}` } }), hashes: { web: HASH.web }, containers: ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, labels)), composeVersion: '2.26.1-4' })
    expect(item?.message).toContain('Compose changed since, 2.24.0 → 2.26.1-4')
  })

  it('reports a container compose created without berth (no berth.env) and one of another release', () => {
    const byHand = { ...berthLabels('staging', 'web'), 'com.docker.compose.config-hash': 'd'.repeat(64) }
    delete (byHand as Record<string, string | undefined>)['berth.env']
    const older = '20261121-170512'
    const containers = ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, byHand), psLine('shop-staging-store-1', `shop-store:${older}`, berthLabels('staging', 'store', older)))
    const items = classifyDrift({ active: record(), hashes: HASH, containers })
    expect(items.map((i) => [i.service, i.kind])).toEqual([
      ['store', 'release'],
      ['store', 'image'],
      ['web', 'unlabelled'],
      ['web', 'config'],
    ])
    expect(items.find((i) => i.kind === 'image')).toMatchObject({ expected: `shop-store:${TAG}`, actual: `shop-store:${older}` })
    expect(items.find((i) => i.kind === 'release')?.message).toBe(`started by release ${older}, but ${TAG} is active`)
  })

  it('compares images by reference, docker.io/library/ and :latest included', () => {
    const active = record({ images: { web: `shop-web:${TAG}`, db: 'postgres' } })
    const containers = ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, berthLabels('staging', 'web')), psLine('shop-staging-db-1', 'docker.io/library/postgres:latest', berthLabels('staging', 'db')))
    expect(classifyDrift({ active, hashes: undefined, containers })).toEqual([])
  })

  it('reports a recorded service with no container and a container of no recorded service', () => {
    const containers = ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, berthLabels('staging', 'web')), psLine('shop-staging-debug-1', 'busybox', berthLabels('staging', 'debug')))
    expect(classifyDrift({ active: record(), hashes: HASH, containers }).map((i) => [i.kind, i.service, i.container])).toEqual([
      ['missing', 'store', undefined],
      ['unknown-service', 'debug', 'shop-staging-debug-1'],
    ])
  })

  it('ignores `docker compose run` one-off containers', () => {
    const run = { ...berthLabels('staging', 'web', TAG, 'e'.repeat(64)), 'com.docker.compose.oneoff': 'True' }
    const containers = [...healthyStaging(), ...ps(psLine('shop-staging-web-run-1a2b', `shop-web:${TAG}`, run))]
    expect(classifyDrift({ active: record(), hashes: HASH, containers })).toEqual([])
  })

  it('reports every container of an environment that has no active release', () => {
    expect(classifyDrift({ active: undefined, hashes: undefined, containers: healthyStaging() }).map((i) => [i.kind, i.container])).toEqual([
      ['no-release', 'shop-staging-store-1'],
      ['no-release', 'shop-staging-web-1'],
    ])
  })
})

type Call = readonly string[]

/** A runner answering from a script keyed by how argv starts; records every call. */
function fakeRun(answers: [prefix: string, result: Partial<RunResult>][]) {
  const calls: Call[] = []
  const run = async (argv: readonly string[], _options?: RunOptions): Promise<RunResult> => {
    calls.push(argv)
    const line = argv.join(' ')
    const hit = answers.find(([prefix]) => line.startsWith(prefix) || line.includes(prefix))
    if (!hit) throw new Error(`unscripted command: ${line}`)
    return { stdout: '', stderr: '', exitCode: 0, ...hit[1] }
  }
  return { run, calls }
}

function deps(run: Deps['run']): Deps {
  const target = localTarget({ stateDir: config.stateDir })
  return { target, targetOf: () => target, run, reporter: silentReporter, probe: async () => ({ ok: true }) as never, sleep: async () => {}, now: () => new Date('2026-11-22T10:00:00Z') }
}

let dir: string
let config: Config
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-drift-'))
  const env = (name: string): EnvironmentConfig => environmentConfig(name, dir)

  config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', env('staging')], ['production', env('production')]]) }
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('expectedHashes', () => {
  it('are the config hashes recorded when the release became healthy', () => {
    expect(expectedHashes({ ...record(), configHashes: HASH })).toEqual({ hashes: HASH })
  })

  it('says why config was not compared when the release has no recorded hashes', () => {
    expect(expectedHashes({ ...record(), configHashes: undefined }).note).toBe('config not compared: release 20261122-093000 has no recorded config hashes')
  })
})

describe('status', () => {
  it('says why the engine does not answer in the engine check\'s words when the listing fails (exit 6), and asks nothing of Compose', async () => {
    const down = { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?' }
    const { run, calls } = fakeRun([
      ['docker ps', down],
      ['docker version', down],
    ])
    const error = await status(config, undefined, deps(run)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EngineUnavailableError)
    expect((error as EngineUnavailableError).message).toBe('the Docker engine does not answer: Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?')
    expect((error as EngineUnavailableError).exitCode).toBe(6)
    expect(calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['docker ps', 'docker version'])
  })

  it('runs one docker ps for the whole host, and no call per environment (nor a docker version: the listing says the engine answers)', async () => {
    await writeReleases(localState(config.stateDir), 'staging', [{ ...record(), configHashes: HASH }])
    await localFiles.writeAtomic(join(config.stateDir, 'staging', 'releases', `${TAG}.compose.yaml`), 'services: {}\n')
    const byHand = { ...berthLabels('staging', 'web'), 'com.docker.compose.config-hash': 'f'.repeat(64) }
    const { run, calls } = fakeRun([
      ['docker info --format {{json .ID}}', { stdout: '""' }],
      ['docker compose version', { stdout: JSON.stringify({ version: '2.26.1' }) }],
      ['docker ps', { stdout: [psLine('shop-staging-web-1', `shop-web:${TAG}`, byHand), psLine('shop-staging-store-1', `shop-store:${TAG}`, berthLabels('staging', 'store')), psLine('shop-web-manual', `shop-web:${TAG}`, imageLabels)].join('\n') }],
    ])
    const report = await status(config, undefined, deps(run))
    expect(calls.filter((c) => c[1] === 'ps')).toEqual([psAll(SHELL_ENGINE)])
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['docker ps --all', 'docker info --format', 'docker compose version'])
    expect(calls.some((c) => c.join(' ') === inspectRestartPolicies(SHELL_ENGINE, []).join(' '))).toBe(false)

    const staging = report.environments.find((e) => e.environment === 'staging')
    // The hand-started container inherits the image's project label, yet is not one of staging's services.
    expect(staging?.services.map((s) => s.container)).toEqual(['shop-staging-store-1', 'shop-staging-web-1'])
    expect(staging?.drift.map((d) => [d.service, d.kind])).toEqual([['web', 'config']])
    expect(report.environments.find((e) => e.environment === 'production')).toMatchObject({ services: [], drift: [] })
    expect(report.unmanaged.map((u) => u.name)).toEqual(['shop-web-manual'])
  })
})
