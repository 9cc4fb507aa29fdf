import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { berthRoutesOfServers, type CaddyApps, type CaddyServers } from '../../../../src/edge/caddy.js'
import { readLive, setLive } from '../../../../src/edge/live.js'
import { maintenancePage, writeMaintenance } from '../../../../src/edge/maintenance.js'
import { localFiles } from '../../../../src/target/files.js'
import { NeedsPersonError, RolledBackError } from '../../../../src/errors.js'
import type { Env } from '../../../../src/health/gate.js'
import type { Deps } from '../../../../src/run/context.js'
import type { ColourState } from '../../../../src/state/colours.js'
import { applyBlueGreen } from '../../../../src/strategy/blueGreen/apply.js'
import { environmentOf, releaseRecord, useTestApp } from '../../support/config.js'
import { flowDeps, recordingReporter, scriptedProbe } from '../../support/deps.js'
import { callsTo, containers, expectSequence, type FakeRunner, fakeRunner, filesOf, psOf } from '../../support/fakeRunner.js'
import { coloursOf, givenColours, givenConfigs } from '../../support/state.js'

/**
 * Only ensureEdge is mocked, in this file: it finds the edge's container and reaches Caddy's admin API over
 * the root-only unix socket that container mounts, which needs a real edge (test/e2e/bluegreen.test.ts and
 * edge.test.ts prove it on one). The edge it gives has a stand-in for the admin API that keeps the servers
 * config in memory, and its live markers in the test's directory, so the real switchRoutes runs: the marker
 * files and the routes written are berth's own. Both calls are noted in the runner's log, so sequences show
 * where the switch comes between the commands.
 */
const edge = vi.hoisted(() => ({ note: (_event: string) => {}, liveDir: '', servers: null as CaddyServers | null }))
vi.mock('../../../../src/edge/lifecycle.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../../src/edge/lifecycle.js')>()),
  ensureEdge: async () => {
    edge.note('edge: ensure it runs')
    const admin = {
      updateServers: async (change: (current: CaddyServers | null) => CaddyServers) => {
        edge.note('edge: update servers')
        edge.servers = change(edge.servers)
      },
      // The apps as the edge holds them, with the servers only: these routes are plain HTTP, with no tls policy.
      updateApps: async (change: (current: CaddyApps | null) => CaddyApps) => {
        edge.note('edge: update servers')
        edge.servers = change({ http: { servers: edge.servers ?? {} } }).http?.servers ?? null
      },
    }
    return { admin, liveDir: edge.liveDir, files: (await import('../../../../src/target/files.js')).localFiles }
  },
}))

const app = useTestApp()

beforeEach(() => {
  edge.liveDir = join(app.dir, 'edge-live')
  edge.servers = null
})

/** production's colour state, and the edge's marker of its live colour as the switch to it left it. */
async function givenLive(state: ColourState): Promise<void> {
  await givenColours(app.config, 'production', state)
  if (state.live) await setLive(localFiles, edge.liveDir, 'shop', 'production', state.live)
}

/** The colour the edge sends production to: its live marker. */
const liveOnEdge = () => readLive(localFiles, edge.liveDir, 'shop', 'production')
/** production's routes on the edge, with both colours' upstreams. */
const routesOnEdge = () => berthRoutesOfServers(edge.servers ?? {}).map((r) => ({ listen: r.listen, upstreams: r.upstreams }))

const NEW = '20261122-100000'
const PREVIOUS = '20261121-090000'
/** Upstream ports as an earlier deploy allocated them. */
const UPSTREAMS: ColourState['upstreams'] = { blue: { 'web:80': 34793 }, green: { 'web:80': 31820 } }

const stateful = 'shop-production'
const blue = 'shop-production-blue'
const green = 'shop-production-green'
const dbHealthy = containers(stateful, { db: 'healthy' })

/** A runner whose log also gets the edge's calls. */
function edgeRunner(): FakeRunner {
  const runner = fakeRunner()
  edge.note = runner.note
  return runner
}

async function release(tag: string) {
  const [record] = await givenConfigs(app.config, 'production', [releaseRecord(tag, 'failed')])
  return record!
}

function envOf(deps: Deps, over: Partial<Env['env']> = {}): Env {
  return { config: app.config, env: { ...environmentOf(app.config, 'production'), ...over }, target: deps.target, vars: {} }
}

const probeUpstream = (colour: 'blue' | 'green') => `probe http://127.0.0.1:${UPSTREAMS[colour]['web:80']}/health`
const PROBE_THROUGH_EDGE = 'probe http://127.0.0.1:8080/health'

/**
 * A next deploy of NEW over PREVIOUS live in blue: the runner scripted up to green's health check, then
 * `andThen` (the old colour's stop, when there is one) and the stateful project's read for the record.
 */
async function nextDeploy(andThen: (r: FakeRunner) => FakeRunner = (r) => r) {
  const previous = await release(PREVIOUS)
  const record = await release(NEW)
  await givenLive({ live: 'blue', blue: { tag: PREVIOUS, configFile: previous.configFile }, upstreams: UPSTREAMS })
  const runner = andThen(
    edgeRunner()
      .expect(`docker compose -p ${stateful} up`)
      .expect(psOf(stateful), dbHealthy)
      .expect(`docker compose -p ${green} up`)
      .expect(psOf(green), containers(green, { web: 'running' })),
  ).expect(psOf(stateful), dbHealthy)
  const { deps } = flowDeps(app.config, runner.run)
  deps.probe = scriptedProbe(runner)
  const slept: number[] = []
  deps.sleep = async (ms) => {
    slept.push(ms)
  }
  return { previous, record, runner, deps, slept }
}

describe('applyBlueGreen', () => {
  it('first deploy: allocates upstreams, ups the stateful project, then blue, waits for it on its upstream, switches the routes and checks through the edge', async () => {
    const record = await release(NEW)
    const runner = edgeRunner()
      .expect('docker ps --all --no-trunc --format', { stdout: '' })
      .expect(`docker compose -p ${stateful} up --detach --no-build --remove-orphans`)
      .expect(psOf(stateful), dbHealthy)
      .expect(`docker compose -p ${blue} up --detach --no-build --remove-orphans`)
      .expect(psOf(blue), containers(blue, { web: 'running' }))
      .expect(psOf(stateful), dbHealthy)
    const { deps } = flowDeps(app.config, runner.run)
    deps.probe = scriptedProbe(runner)

    const applied = await applyBlueGreen(deps, envOf(deps), record)

    const { upstreams, ...colours } = await coloursOf(app.config, 'production')
    const upstream = upstreams.blue['web:80']
    expectSequence(runner, [
      // The host's ports in use, for the upstreams both colours will publish.
      'docker ps --all --no-trunc --format',
      `docker compose -p ${stateful} up`,
      psOf(stateful),
      `docker compose -p ${blue} up`,
      psOf(blue),
      `probe http://127.0.0.1:${upstream}/health`,
      'edge: ensure it runs',
      'edge: update servers',
      PROBE_THROUGH_EDGE,
      // What the stateful project runs, for the record.
      psOf(stateful),
    ])
    expect(callsTo(runner, `docker compose -p ${stateful} up`).map(filesOf)).toEqual([['stateful.compose.yaml']])
    expect(callsTo(runner, `docker compose -p ${blue} up`).map(filesOf)).toEqual([['blue.compose.yaml']])
    expect(routesOnEdge()).toEqual([{ listen: 8080, upstreams: { blue: `127.0.0.1:${upstream}`, green: `127.0.0.1:${upstreams.green['web:80']}` } }])
    expect(await liveOnEdge()).toBe('blue')
    expect(colours).toEqual({ live: 'blue', blue: { tag: NEW, configFile: record.configFile } })
    expect(applied).toEqual({
      configHashes: { db: 'hash-shop-production-db', web: 'hash-shop-production-blue-web' },
      record: { colour: 'blue', images: { db: 'postgres:16' }, serviceReleases: { db: NEW } },
    })
  })

  it('next deploy, idle: stopped: brings the idle colour up beside the live one, switches, then lets the old colour drain and stops it without removing it', async () => {
    const { previous, record, runner, deps, slept } = await nextDeploy((r) => r.expect(`docker compose -p ${blue} stop`))

    await applyBlueGreen(deps, envOf(deps, { idle: 'stopped' }), record)

    // Upstreams allocated before: the host's ports are not read again.
    expectSequence(runner, [
      `docker compose -p ${stateful} up`,
      psOf(stateful),
      `docker compose -p ${green} up`,
      psOf(green),
      probeUpstream('green'),
      'edge: ensure it runs',
      'edge: update servers',
      PROBE_THROUGH_EDGE,
      `docker compose -p ${blue} stop`,
      psOf(stateful),
    ])
    expect(slept).toEqual([5000])
    expect(await liveOnEdge()).toBe('green')
    expect(await coloursOf(app.config, 'production')).toEqual({ live: 'green', blue: { tag: PREVIOUS, configFile: previous.configFile }, green: { tag: NEW, configFile: record.configFile }, upstreams: UPSTREAMS })
  })

  it('warm rollback, idle: stopped: starts the stopped colour that still holds the release — no up, no stateful change — and switches to it', async () => {
    const previous = await release(PREVIOUS)
    const current = await release(NEW)
    await givenLive({ live: 'green', blue: { tag: PREVIOUS, configFile: previous.configFile }, green: { tag: NEW, configFile: current.configFile }, upstreams: UPSTREAMS })
    const runner = edgeRunner()
      .expect(psOf(blue), containers(blue, { web: 'exited' }))
      .expect(`docker compose -p ${blue} start`)
      .expect(psOf(blue), containers(blue, { web: 'running' }))
      .expect(`docker compose -p ${green} stop`)
      .expect(psOf(stateful), dbHealthy)
    const { deps } = flowDeps(app.config, runner.run)
    deps.probe = scriptedProbe(runner)

    await applyBlueGreen(deps, envOf(deps, { idle: 'stopped' }), previous)

    expectSequence(runner, [
      // Does blue still have its containers? Then it is warm.
      psOf(blue),
      `docker compose -p ${blue} start`,
      psOf(blue),
      probeUpstream('blue'),
      'edge: ensure it runs',
      'edge: update servers',
      PROBE_THROUGH_EDGE,
      `docker compose -p ${green} stop`,
      psOf(stateful),
    ])
    expect(runner.calls.some((c) => c.argv.includes('up'))).toBe(false)
    expect((await coloursOf(app.config, 'production')).live).toBe('blue')
    expect(await liveOnEdge()).toBe('blue')
  })

  it('next deploy in maintenance: switches behind the page, and sends no probe through the edge (it would get the 503 page)', async () => {
    const { record, runner, deps } = await nextDeploy()
    await writeMaintenance(localFiles, edge.liveDir, 'shop', 'production', maintenancePage({ since: '2026-11-22T09:00:00.000Z' }))
    const told = recordingReporter()
    deps.reporter = told.reporter

    await applyBlueGreen(deps, envOf(deps), record)

    expectSequence(runner, [
      `docker compose -p ${stateful} up`,
      psOf(stateful),
      `docker compose -p ${green} up`,
      psOf(green),
      probeUpstream('green'),
      'edge: ensure it runs',
      'edge: update servers',
      psOf(stateful),
    ])
    expect(told.told.infos.join('\n')).toMatch(/production is in maintenance: its routes answer the maintenance page, so the probes through the edge are skipped; 20261122-100000 serves once it is off \(berth maintenance production off\)/)
    expect(await liveOnEdge()).toBe('green')
  })

  it('next deploy, idle: running (the default): the old colour, routed services only, keeps running: no drain, no stop', async () => {
    const { record, runner, deps, slept } = await nextDeploy()

    await applyBlueGreen(deps, envOf(deps), record)

    expect(runner.calls.some((c) => c.argv.includes('stop'))).toBe(false)
    expect(slept).toEqual([])
    expect(await liveOnEdge()).toBe('green')
    expect(await coloursOf(app.config, 'production')).toMatchObject({ live: 'green', blue: { tag: PREVIOUS } })
  })

  it('a colour that is not healthy is removed and RolledBackError thrown (exit 3): the routes never change', async () => {
    const previous = await release(PREVIOUS)
    const record = await release(NEW)
    const before: ColourState = { live: 'blue', blue: { tag: PREVIOUS, configFile: previous.configFile }, upstreams: UPSTREAMS }
    await givenLive(before)
    const runner = edgeRunner()
      .expect(`docker compose -p ${stateful} up`)
      .expect(psOf(stateful), dbHealthy)
      .expect(`docker compose -p ${green} up`)
      .expect(psOf(green), containers(green, { web: 'exited' }))
      .expect(`docker compose -p ${green} logs --no-color --tail 50 web`, { stdout: 'web-1 | listen EADDRINUSE\n' })
      .expect(`docker compose -p ${green} down --remove-orphans`)
    const { deps, told } = flowDeps(app.config, runner.run)
    deps.probe = scriptedProbe(runner)

    const error = await applyBlueGreen(deps, envOf(deps), record).catch((e: unknown) => e)

    expectSequence(runner, [
      `docker compose -p ${stateful} up`,
      psOf(stateful),
      `docker compose -p ${green} up`,
      psOf(green),
      `docker compose -p ${green} logs --no-color --tail 50 web`,
      `docker compose -p ${green} down --remove-orphans`,
    ])
    expect(error).toBeInstanceOf(RolledBackError)
    expect(error).toMatchObject({ exitCode: 3, message: expect.stringContaining(`the green colour was removed and blue kept serving ${PREVIOUS}`) as unknown })
    expect(told.blocks).toEqual([{ title: 'last 1 log lines of web:', lines: ['web-1 | listen EADDRINUSE'] }])
    expect(await coloursOf(app.config, 'production')).toEqual(before)
    expect(await liveOnEdge()).toBe('blue')
    expect(edge.servers).toBeNull()
  })

  it('a first colour that is not healthy is removed and NeedsPersonError thrown (exit 4): nothing was live', async () => {
    const record = await release(NEW)
    await givenLive({ upstreams: UPSTREAMS })
    const runner = edgeRunner()
      .expect(`docker compose -p ${stateful} up`)
      .expect(psOf(stateful), dbHealthy)
      .expect(`docker compose -p ${blue} up`)
      .expect(psOf(blue), containers(blue, { web: 'unhealthy' }))
      .expect(`docker compose -p ${blue} logs --no-color --tail 50 web`)
      .expect(`docker compose -p ${blue} down --remove-orphans`)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await applyBlueGreen(deps, envOf(deps), record).catch((e: unknown) => e)

    expectSequence(runner, [`docker compose -p ${stateful} up`, psOf(stateful), `docker compose -p ${blue} up`, psOf(blue), `docker compose -p ${blue} logs --no-color --tail 50 web`, `docker compose -p ${blue} down --remove-orphans`])
    expect(error).toBeInstanceOf(NeedsPersonError)
    expect(error).toMatchObject({ exitCode: 4, message: expect.stringContaining('nothing was live before it') as unknown })
  })

  it('a colour that does not answer through the edge: routes switched back to the live colour, the new one removed, exit 3', async () => {
    const previous = await release(PREVIOUS)
    const record = await release(NEW)
    const before: ColourState = { live: 'blue', blue: { tag: PREVIOUS, configFile: previous.configFile }, upstreams: UPSTREAMS }
    await givenLive(before)
    const runner = edgeRunner()
      .expect(`docker compose -p ${stateful} up`)
      .expect(psOf(stateful), dbHealthy)
      .expect(`docker compose -p ${green} up`)
      .expect(psOf(green), containers(green, { web: 'running' }))
      .expect(`docker compose -p ${green} down --remove-orphans`)
    const { deps } = flowDeps(app.config, runner.run)
    deps.probe = scriptedProbe(runner, [{ ok: true, detail: 'HTTP 200' }, { ok: false, detail: 'HTTP 502' }])

    const error = await applyBlueGreen(deps, envOf(deps), record).catch((e: unknown) => e)

    expectSequence(runner, [
      `docker compose -p ${stateful} up`,
      psOf(stateful),
      `docker compose -p ${green} up`,
      psOf(green),
      probeUpstream('green'),
      'edge: ensure it runs',
      'edge: update servers',
      ...Array<string>(5).fill(PROBE_THROUGH_EDGE),
      'edge: update servers',
      `docker compose -p ${green} down --remove-orphans`,
    ])
    expect(error).toBeInstanceOf(RolledBackError)
    expect(error).toMatchObject({ exitCode: 3, message: expect.stringContaining('routes switched back to blue') as unknown })
    expect(await coloursOf(app.config, 'production')).toEqual(before)
    expect(await liveOnEdge()).toBe('blue')
  })

  it('stateful services that are not healthy need a person (exit 4): no colour is brought up', async () => {
    const record = await release(NEW)
    await givenLive({ upstreams: UPSTREAMS })
    const runner = edgeRunner()
      .expect(`docker compose -p ${stateful} up`)
      .expect(psOf(stateful), containers(stateful, { db: 'exited' }))
      .expect(`docker compose -p ${stateful} logs --no-color --tail 50 db`)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await applyBlueGreen(deps, envOf(deps), record).catch((e: unknown) => e)

    expectSequence(runner, [`docker compose -p ${stateful} up`, psOf(stateful), `docker compose -p ${stateful} logs --no-color --tail 50 db`])
    expect(error).toBeInstanceOf(NeedsPersonError)
    expect(error).toMatchObject({ exitCode: 4, hint: 'Both colours depend on them. See: berth status production; berth logs production' })
  })
})
