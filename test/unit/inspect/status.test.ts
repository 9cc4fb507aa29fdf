import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Config } from '../../../src/config/types.js'
import type { Deps } from '../../../src/run/context.js'
import { type ReleaseRecord, releasesPath, writeReleases } from '../../../src/state/releases.js'
import { releaseHistory, status } from '../../../src/inspect/status.js'
import type { RunResult } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import { formatReleases, formatStatus } from '../../../src/ui/format.js'
import { environmentConfig } from '../fixtures.js'
import type { Target } from '../../../src/target/target.js'
import { localTarget } from '../../../src/target/local.js'
import { coloursPath, writeColours } from '../../../src/state/colours.js'
import { localState } from '../../../src/target/local.js'
import { maintenancePage, writeMaintenance } from '../../../src/edge/maintenance.js'
import { localFiles } from '../../../src/target/files.js'

const TAG = '20261122-093000'
const record: ReleaseRecord = { tag: TAG, deployedAt: '2026-11-22T09:30:00.000Z', activeSince: '2026-11-22T09:31:00.000Z', by: 'a@b', status: 'active', images: { web: `shop-web:${TAG}` }, builtImages: [`shop-web:${TAG}`], envHash: 'x', configFile: `${TAG}.x.compose.yaml`, configHashes: { web: 'a'.repeat(64) } }

function web(env: string) {
  const labels = { 'com.docker.compose.project': `shop-${env}`, 'com.docker.compose.service': 'web', 'com.docker.compose.oneoff': 'False', 'com.docker.compose.config-hash': 'a'.repeat(64), 'berth.app': 'shop', 'berth.env': env, 'berth.release': TAG }
  return JSON.stringify({ ID: `${env}-id`, Names: `shop-${env}-web-1`, Image: `shop-web:${TAG}`, State: 'running', Status: 'Up 5 minutes', Ports: '', Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: '2026-11-22 09:30:05 +0000 UTC' })
}

const targets = new Map<string, Target>()
const deps: Deps = {
  // One target per state directory, as berth makes one per engine: the environments share its listing.
  get target() {
    const made = targets.get(config.stateDir) ?? localTarget({ stateDir: config.stateDir, run: (argv, options) => deps.run(argv, options) })
    targets.set(config.stateDir, made)
    return made
  },
  targetOf: () => deps.target,
  run: async (argv): Promise<RunResult> => {
    const line = argv.join(' ')
    if (line.startsWith('docker version')) return { stdout: JSON.stringify({ Server: { Version: '20.10.24' } }), stderr: '', exitCode: 0 }
    // No ID: Compose is asked, and no cache of the machine running the tests is read or written.
    if (line.startsWith('docker info --format {{json .ID}}')) return { stdout: '""', stderr: '', exitCode: 0 }
    if (line.startsWith('docker compose version')) return { stdout: JSON.stringify({ version: '2.26.1' }), stderr: '', exitCode: 0 }
    if (line.startsWith('docker ps')) return { stdout: `${web('staging')}\n${web('production')}`, stderr: '', exitCode: 0 }
    throw new Error(`unscripted command: ${line}`)
  },
  reporter: silentReporter,
  probe: async () => ({ ok: true }) as never,
  sleep: async () => {},
  now: () => new Date(),
}

let dir: string
let config: Config
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-status-'))
  const production = { ...environmentConfig('production', dir), strategy: 'blue-green' as const, routes: [{ listen: 8080, service: 'web', port: 8080, tls: 'off' as const }] }
  config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', environmentConfig('staging', dir)], ['production', production]]) }
  await writeReleases(localState(config.stateDir), 'staging', [record])
  await writeReleases(localState(config.stateDir), 'production', [record])
  await writeColours(localState(config.stateDir), 'production', { live: 'blue', blue: { tag: TAG, configFile: record.configFile }, upstreams: { blue: { 'web:8080': 31000 }, green: { 'web:8080': 32000 } } })
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('status with damaged state', () => {
  it.each([
    ['cut short', (text: string) => text.slice(0, 100)],
    ['of the wrong shape', () => '{"releases": 5}'],
    ['empty', () => ''],
  ])("marks the environment whose records are %s, still lists its containers, and shows the others as usual", async (_name, damage) => {
    const path = releasesPath(config.stateDir, 'staging')
    await writeFile(path, damage(await readFile(path, 'utf8')))
    const report = await status(config, undefined, deps)
    const [staging, production] = report.environments
    expect(staging).toMatchObject({ environment: 'staging', damaged: [{ file: path, fix: `Restore the last good copy berth kept: cp ${path}.last-good ${path}` }], drift: [], driftNote: 'drift not checked: a state file is damaged' })
    expect(staging?.release).toBeUndefined()
    expect(staging?.services.map((s) => s.container)).toEqual(['shop-staging-web-1'])
    expect(production).toMatchObject({ environment: 'production', release: TAG, colours: { live: 'blue' } })
    expect(production?.damaged).toBeUndefined()

    const text = formatStatus(report)
    expect(text).toContain('staging (shop-staging) on the local engine: state damaged, release unknown')
    expect(text).toContain(`  state damaged: ${path}: `)
    expect(text).toContain(`    fix: Restore the last good copy berth kept: cp ${path}.last-good ${path}`)
    expect(text).toContain(`production (shop-production) on the local engine: release ${TAG} since 2026-11-22T09:31:00.000Z`)
  })

  it("marks a blue-green environment's damaged colour state, keeping its release", async () => {
    await writeFile(coloursPath(config.stateDir, 'production'), '{"live": "red", "upstreams": {}}')
    const production = (await status(config, 'production', deps)).environments[0]
    expect(production).toMatchObject({ release: TAG, damaged: [{ file: coloursPath(config.stateDir, 'production'), problem: 'live: expected blue or green; upstreams.blue: is required; upstreams.green: is required' }] })
    expect(production?.colours).toBeUndefined()
  })
})

describe('status of a blue-green environment in maintenance', () => {
  const saved = process.env.BERTH_EDGE_DIR
  afterEach(() => {
    if (saved === undefined) delete process.env.BERTH_EDGE_DIR
    else process.env.BERTH_EDGE_DIR = saved
  })

  it("shows since when and the page's message, read from the page's file in the edge's directory", async () => {
    process.env.BERTH_EDGE_DIR = join(dir, 'edge')
    const live = join(dir, 'edge', 'live')
    expect((await status(config, 'production', deps)).environments[0]?.colours?.maintenance).toBeUndefined()
    await writeMaintenance(localFiles, live, 'shop', 'production', maintenancePage({ since: '2026-11-22T10:00:00.000Z', message: 'back soon' }))
    const report = await status(config, undefined, deps)
    const [staging, production] = report.environments
    expect(production?.colours?.maintenance).toEqual({ since: '2026-11-22T10:00:00.000Z', message: 'back soon' })
    expect(staging?.colours).toBeUndefined()
    const text = formatStatus(report)
    expect(text).toContain('  maintenance: ON since 2026-11-22T10:00:00.000Z, its routes answer 503 with "back soon" (berth maintenance production off ends it)')
    await writeMaintenance(localFiles, live, 'shop', 'production', maintenancePage({ since: '2026-11-22T10:00:00.000Z' }))
    expect(formatStatus(await status(config, 'production', deps))).toContain('its routes answer 503 with the default page')
  })
})

describe('releaseHistory', () => {
  it('lists the records, newest first', async () => {
    expect(await releaseHistory(config, 'staging', deps)).toEqual({ environment: 'staging', releases: [record] })
  })

  it('with damaged records: the problem, the fix, and the history the last good copy holds', async () => {
    const path = releasesPath(config.stateDir, 'staging')
    await writeFile(path, '[{"tag": 5}]')
    const history = await releaseHistory(config, 'staging', deps)
    expect(history).toEqual({
      environment: 'staging',
      releases: [],
      damaged: { file: path, problem: 'top level: expected a mapping, got a list', fix: `Restore the last good copy berth kept: cp ${path}.last-good ${path}` },
      lastGood: { file: `${path}.last-good`, releases: [record] },
    })
    const text = formatReleases(history)
    expect(text).toContain(`staging's release records are damaged: ${path}: top level: expected a mapping, got a list`)
    expect(text).toContain(`the last good copy (${path}.last-good) holds:`)
    expect(text).toMatch(new RegExp(`^${TAG} \\*\\s+active`, 'm'))
  })

  it('with damaged records and no good copy: the mv that moves them aside', async () => {
    const path = releasesPath(config.stateDir, 'staging')
    await rm(`${path}.last-good`)
    await writeFile(path, '')
    const history = await releaseHistory(config, 'staging', deps)
    expect(history.lastGood).toBeUndefined()
    expect(history.damaged?.fix).toContain(`mv ${path} ${path}.damaged-`)
  })
})
