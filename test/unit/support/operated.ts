import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { RunOptions, RunResult } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import type { Deps } from '../../../src/run/context.js'
import type { Output } from '../../../src/run/output.js'
import { clearSecrets } from '../../../src/secrets.js'
import { configPath } from '../../../src/state/paths.js'
import { type ReleaseRecord, writeReleases } from '../../../src/state/releases.js'
import { localTarget } from '../../../src/target/local.js'
import { environmentConfig } from '../fixtures.js'
import { localState } from '../../../src/target/local.js'
import { localFiles } from '../../../src/target/files.js'

/**
 * The app logs, compose and down are tested on (test/unit/run): staging and production of `shop` in a
 * temporary directory, env files holding a secret (and a multi-line one), and a scripted engine.
 */
export const SECRET = 'unit-secret-token-91d3'

/** The app's directory and config, new for every test. */
export const app = { dir: '', config: undefined as unknown as Config }

export function environment(name: string, over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return { ...environmentConfig(name, app.dir), required: ['DATABASE_URL'], health: { timeoutMs: 1000, intervalMs: 10, http: [] }, ...over }
}

export interface Call {
  argv: readonly string[]
  options: RunOptions
}

/**
 * A scripted engine: answers the version checks and `docker ps`, and plays `lines` to a streaming call
 * (stdout, plus one stderr line holding the secret) before returning `exitCode`.
 */
export function fakeDeps(o: { containers?: string[]; lines?: string[]; exitCode?: number } = {}) {
  const calls: Call[] = []
  const warnings: string[] = []
  const containers = o.containers ?? ['web', 'store']
  const run = async (argv: readonly string[], options: RunOptions = {}): Promise<RunResult> => {
    calls.push({ argv, options })
    const joined = argv.join(' ')
    if (joined === 'docker version --format {{json .}}') return { stdout: '{"Server":{"Version":"27.3.1"}}', stderr: '', exitCode: 0 }
    if (joined === 'docker compose version --format json') return { stdout: '{"version":"v2.29.7"}', stderr: '', exitCode: 0 }
    if (argv[1] === 'ps') {
      const rows = containers.map((s) => JSON.stringify({ ID: s, Names: `shop-staging-${s}-1`, Image: `shop-${s}:1`, State: 'running', Status: 'Up', Labels: `com.docker.compose.project=shop-staging,com.docker.compose.service=${s}` }))
      return { stdout: rows.join('\n'), stderr: '', exitCode: 0 }
    }
    for (const line of o.lines ?? []) options.onLine?.(line, 'stdout')
    options.onLine?.(`warning: ${SECRET} seen`, 'stderr')
    return { stdout: '', stderr: '', exitCode: o.exitCode ?? 0 }
  }
  const deps: Deps = {
    target: localTarget({ stateDir: app.config.stateDir }),
    get targetOf() {
      return () => this.target
    },
    run,
    reporter: { ...silentReporter, warn: (m) => warnings.push(m) },
    probe: async () => ({ ok: true, detail: '' }),
    sleep: async () => {},
    now: () => new Date('2026-11-22T10:00:00.000Z'),
  }
  return { deps, calls, warnings }
}

export function collect(): Output & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) }
}

export function record(tag: string, status: ReleaseRecord['status']): ReleaseRecord {
  return { tag, deployedAt: '2026-11-22T09:00:00.000Z', activeSince: '2026-11-22T09:01:00.000Z', by: 'alice@host', status, images: {}, builtImages: [], envHash: 'x', configFile: `${tag}.compose.yaml` }
}

/** staging has an active release whose recorded config is on disk. */
export async function deployedStaging(): Promise<string> {
  const tag = '20261122-090000'
  await writeReleases(localState(app.config.stateDir), 'staging', [record(tag, 'active')])
  await localFiles.writeAtomic(configPath(app.config.stateDir, 'staging', `${tag}.compose.yaml`), 'services:\n  web: {}\n  store: {}\n')
  return tag
}

/** Registers the app's set-up and tear-down around every test of the calling file. */
export function useApp(): void {
beforeEach(async () => {
  clearSecrets()
  app.dir = await mkdtemp(join(tmpdir(), 'berth-operate-'))
  await writeFile(join(app.dir, 'compose.yaml'), 'services: {}\n')
  await mkdir(join(app.dir, 'environments'))
  // DATABASE_URL is required but missing: logs, compose and down must still work.
  await writeFile(join(app.dir, 'environments', 'staging.env'), `SECRET_TOKEN=${SECRET}\nPRIVATE_PEM="line-one-of-key\nline-two-of-key"\n`)
  await writeFile(join(app.dir, 'environments', 'production.env'), 'SECRET_TOKEN=other\n')
  app.config = {
    app: 'shop',
    file: join(app.dir, 'deploy.yml'),
    edge: { image: 'caddy:2' },
    dir: app.dir,
    stateDir: join(app.dir, '.berth'),
    environments: new Map([
      ['staging', environment('staging')],
      ['production', environment('production', { confirm: true })],
    ]),
  }
})

afterEach(async () => {
  clearSecrets()
  await rm(app.dir, { recursive: true, force: true })
})
}
