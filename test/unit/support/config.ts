import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { stringify } from 'yaml'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { ComposeModel } from '../../../src/release/model.js'
import { clearSecrets } from '../../../src/secrets.js'
import type { ReleaseRecord } from '../../../src/state/releases.js'
import { environmentConfig } from '../fixtures.js'

/**
 * The app flow tests deploy: `shop`, in a temporary directory with its compose file and env files, and two
 * environments — staging (recreate) and production (blue-green: web routed from :8080, db stateful).
 */
export interface TestApp {
  dir: string
  config: Config
}

const COMPOSE_FILE = 'services:\n  web:\n    build: .\n  db:\n    image: postgres:16\n    restart: always\n'

export async function makeApp(): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-flow-'))
  await writeFile(join(dir, 'compose.yaml'), COMPOSE_FILE)
  await mkdir(join(dir, 'environments'))
  await writeFile(join(dir, 'environments', 'staging.env'), 'APP_ENV=staging\nDATABASE_URL=postgres://db/staging\n')
  await writeFile(join(dir, 'environments', 'production.env'), 'APP_ENV=production\nDATABASE_URL=postgres://db/production\n')
  const health = { timeoutMs: 10_000, intervalMs: 1000, http: [] }
  const staging: EnvironmentConfig = { ...environmentConfig('staging', dir), health }
  const production: EnvironmentConfig = {
    ...environmentConfig('production', dir),
    strategy: 'blue-green',
    health: { ...health, http: [{ url: 'http://127.0.0.1:8080/health' }] },
    stateful: ['db'],
    routes: [{ listen: 8080, service: 'web', port: 80, tls: 'off' }],
    drainMs: 5000,
  }
  const config: Config = {
    app: 'shop',
    file: join(dir, 'deploy.yml'),
    dir,
    stateDir: join(dir, '.berth'),
    edge: { image: 'caddy:2' },
    environments: new Map([
      ['staging', staging],
      ['production', production],
    ]),
  }
  return { dir, config }
}

/** A new app for every test of the calling file, removed after it. */
export function useTestApp(): TestApp {
  const app: TestApp = { dir: '', config: undefined as unknown as Config }
  beforeEach(async () => {
    clearSecrets()
    Object.assign(app, await makeApp())
  })
  afterEach(async () => {
    clearSecrets()
    await rm(app.dir, { recursive: true, force: true })
  })
  return app
}

/** The config with one environment changed. */
export function withEnvironment(config: Config, name: string, over: Partial<EnvironmentConfig>): Config {
  const env = config.environments.get(name)
  if (!env) throw new Error(`no environment ${name}`)
  return { ...config, environments: new Map([...config.environments, [name, { ...env, ...over }]]) }
}

export function environmentOf(config: Config, name: string): EnvironmentConfig {
  const env = config.environments.get(name)
  if (!env) throw new Error(`no environment ${name}`)
  return env
}

/** What `docker compose config --format json` of the operator's files gives: web is built, db is an image. */
export function sourceModel(over: Partial<ComposeModel['services']> = {}): ComposeModel {
  return {
    services: {
      web: { build: { context: '.' } },
      db: { image: 'postgres:16', restart: 'always' },
      ...over,
    } as ComposeModel['services'],
  }
}

/** The same as `compose config --format json` prints it. */
export function sourceModelJson(over: Partial<ComposeModel['services']> = {}): string {
  return JSON.stringify(sourceModel(over))
}

/** What `docker compose config --format yaml` gives with berth's override of release `tag` laid over the operator's files. */
export function resolvedConfig(app: string, env: string, tag: string): string {
  return configOf(app, env, tag, true)
}

/** A release's recorded config: the resolved one without its build sections (prepareRelease). */
export function recordedConfig(app: string, env: string, tag: string): string {
  return configOf(app, env, tag, false)
}

function configOf(app: string, env: string, tag: string, withBuild: boolean): string {
  const labels = { 'berth.app': app, 'berth.env': env, 'berth.release': tag }
  return stringify({
    name: `${app}-${env}`,
    services: {
      web: { ...(withBuild ? { build: { context: '.' } } : {}), image: `${app}-web:${tag}`, labels, restart: 'unless-stopped' },
      db: { image: 'postgres:16', labels, restart: 'always' },
    },
  })
}

/** A tag's time: 20261122-093000 was deployed at 2026-11-22T09:30:00Z. */
function timeOf(tag: string): string {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)/.exec(tag)
  if (!m) throw new Error(`not a release tag: ${tag}`)
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`
}

/** The record of release `tag` of shop: web built as shop-web:<tag>, db on postgres:16. */
export function releaseRecord(tag: string, status: ReleaseRecord['status'], over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    tag,
    deployedAt: timeOf(tag),
    ...(status === 'failed' ? {} : { activeSince: timeOf(tag) }),
    by: 'alice@host',
    status,
    images: { web: `shop-web:${tag}`, db: 'postgres:16' },
    builtImages: [`shop-web:${tag}`],
    envHash: 'sha256:0',
    configFile: `${tag}.test.compose.yaml`,
    ...over,
  }
}
