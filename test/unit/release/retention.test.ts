import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { Env } from '../../../src/health/gate.js'
import { recreate } from '../../../src/strategy/recreate.js'
import type { Deps } from '../../../src/run/context.js'
import { readReleases, type ReleaseRecord, releasesPath, writeReleases } from '../../../src/state/releases.js'
import { allReleaseTags, pruneReleases } from '../../../src/release/retention.js'
import type { RunResult } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import { environmentConfig } from '../fixtures.js'
import { localTarget } from '../../../src/target/local.js'
import { localState } from '../../../src/target/local.js'

/** Release `tag` of shop's web, deployed at minute `minute`. */
function record(tag: string, minute: number, status: ReleaseRecord['status']): ReleaseRecord {
  return {
    tag,
    deployedAt: new Date(Date.UTC(2026, 10, 22, 9, minute)).toISOString(),
    by: 'deploy@host',
    status,
    images: { web: `shop-web:${tag}` },
    builtImages: [`shop-web:${tag}`],
    envHash: 'sha256:0',
    configFile: `${tag}.x.compose.yaml`,
  }
}

let dir: string
let config: Config
const staging = () => ({ ...environmentConfig('staging', dir), keep: 1 })

/** The environment as retention gets it from a deploy. */
const envOf = (env: EnvironmentConfig): Env => ({ config, env, target: localTarget({ stateDir: config.stateDir }), vars: {} })

function fakeDeps() {
  const run = vi.fn(async (_argv: readonly string[]): Promise<RunResult> => ({ stdout: '', stderr: '', exitCode: 0 }))
  const warn = vi.fn<(message: string) => void>()
  const target = localTarget({ stateDir: config.stateDir })
  const deps: Deps = { target, targetOf: () => target, run, reporter: { ...silentReporter, warn }, probe: async () => ({ ok: true }) as never, sleep: async () => {}, now: () => new Date() }
  return { deps, run, warn }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-retention-'))
  config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', staging()]]) }
  // Staging moved on from A and B; production was promoted to A and runs it.
  await writeReleases(localState(config.stateDir), 'staging', [record('C', 20, 'active'), record('B', 10, 'previous'), record('A', 0, 'superseded')])
  await writeReleases(localState(config.stateDir), 'production', [record('A', 5, 'active')])
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('pruneReleases', () => {
  it("drops what is beyond keep, and keeps an image another environment's release uses", async () => {
    const { deps, run } = fakeDeps()
    expect(await pruneReleases(deps, envOf(staging()), recreate)).toEqual([])
    expect((await readReleases(localState(config.stateDir), 'staging')).map((r) => r.tag)).toEqual(['C', 'B'])
    expect(run).not.toHaveBeenCalled() // shop-web:A is production's
  })

  it.each([
    ['cut short', (text: string) => text.slice(0, 50)],
    ['of the wrong shape', () => '{"releases": 5}'],
    ['empty', () => ''],
  ])("skips retention whole, saying why, while another environment's records are %s", async (_name, damage) => {
    const path = releasesPath(config.stateDir, 'production')
    const damaged = damage(await readFile(path, 'utf8'))
    await writeFile(path, damaged)
    const { deps, run, warn } = fakeDeps()
    const before = await readFile(releasesPath(config.stateDir, 'staging'), 'utf8')

    expect(await pruneReleases(deps, envOf(staging()), recreate)).toEqual([])
    expect(run).not.toHaveBeenCalled()
    expect(await readFile(releasesPath(config.stateDir, 'staging'), 'utf8')).toBe(before)
    expect(await readFile(path, 'utf8')).toBe(damaged)
    expect(warn).toHaveBeenCalledWith(`retention skipped: the release records of production (${path}) are damaged, so berth cannot tell which images they use; A and their images are kept until a deploy of staging after the repair`)

    // Once repaired, the next deploy's retention does what was skipped.
    await writeFile(path, await readFile(`${path}.last-good`, 'utf8'))
    await writeReleases(localState(config.stateDir), 'production', [record('D', 30, 'active')])
    expect(await pruneReleases(fakeDeps().deps, envOf(staging()), recreate)).toEqual(['shop-web:A'])
  })
})

describe('allReleaseTags', () => {
  it("lists every environment's tags, and skips damaged records with a warning", async () => {
    expect((await allReleaseTags(fakeDeps().deps)).sort()).toEqual(['A', 'A', 'B', 'C'])
    await writeFile(releasesPath(config.stateDir, 'production'), '[{"tag": 5}]')
    const { deps, warn } = fakeDeps()
    expect((await allReleaseTags(deps)).sort()).toEqual(['A', 'B', 'C'])
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^the release tags of production are unknown \(.*production\/releases\.json is damaged\)/))
  })
})

describe('pruneReleases when one tag has images on two engines (SPEC §10 promotion)', () => {
  const B = 'unix:///run/b.sock'

  it("removes a dropped release's images from its own engine only, judged by the records kept with that engine", async () => {
    // Production runs on host B, its records there; A was promoted to it, so A's image is on both engines.
    await rm(join(config.stateDir, 'production'), { recursive: true, force: true })
    const hostBState = join(dir, 'host-b')
    await writeReleases(localState(hostBState), 'production', [record('E', 40, 'active'), record('D', 30, 'previous'), record('A', 5, 'superseded')])
    const production = { ...environmentConfig('production', dir), keep: 1 }

    // Staging's retention on this machine: production's A on host B does not keep this engine's copy.
    const local = fakeDeps()
    expect(await pruneReleases(local.deps, envOf(staging()), recreate)).toEqual(['shop-web:A'])
    expect(local.run.mock.calls.map(([argv]) => argv)).toEqual([['docker', 'image', 'rm', 'shop-web:A']])

    // Production's retention on host B: only host B's copy, through host B's engine.
    const run = vi.fn(async (_argv: readonly string[]): Promise<RunResult> => ({ stdout: '', stderr: '', exitCode: 0 }))
    const target = localTarget({ stateDir: hostBState, engine: { host: B }, run })
    const onB: Deps = { ...fakeDeps().deps, target, targetOf: () => target, run }
    expect(await pruneReleases(onB, envOf(production), recreate)).toEqual(['shop-web:A'])
    expect(run.mock.calls.map(([argv]) => argv)).toEqual([['docker', '--host', B, 'image', 'rm', 'shop-web:A']])
  })

  it("keeps this engine's copy while an environment recorded with this engine still keeps the release", async () => {
    // Production on host B also keeps A: host B's retention of another environment there must not remove it.
    const hostBState = join(dir, 'host-b')
    await writeReleases(localState(hostBState), 'production', [record('A', 5, 'active')])
    await writeReleases(localState(hostBState), 'qa', [record('F', 50, 'active'), record('D', 30, 'previous'), record('A', 6, 'superseded')])
    const run = vi.fn(async (_argv: readonly string[]): Promise<RunResult> => ({ stdout: '', stderr: '', exitCode: 0 }))
    const target = localTarget({ stateDir: hostBState, engine: { host: B }, run })
    const onB: Deps = { ...fakeDeps().deps, target, targetOf: () => target, run }
    expect(await pruneReleases(onB, envOf({ ...environmentConfig('qa', dir), keep: 1 }), recreate)).toEqual([])
    expect(run).not.toHaveBeenCalled()
  })
})
