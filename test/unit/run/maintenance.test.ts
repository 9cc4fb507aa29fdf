import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

import { beforeEach, describe, expect, it, vi } from 'vitest'

import { type CaddyApps, type CaddyServers, edgeRouteJson } from '../../../src/edge/caddy.js'
import { readMaintenance } from '../../../src/edge/maintenance.js'
import { setLive } from '../../../src/edge/live.js'
import { maintenance, type MaintenanceRequest } from '../../../src/run/maintenance.js'
import { localFiles } from '../../../src/target/files.js'
import { withEnvironment, useTestApp } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { COMPOSE_VERSION, DOCKER_VERSION, fakeRunner } from '../support/fakeRunner.js'
import { olderRoute } from '../support/caddy.js'
import { auditOf } from '../support/state.js'

/**
 * The edge's lifecycle is mocked, as in apply.test.ts: finding its container and its admin socket needs a real
 * edge (test/e2e/maintenance.test.ts runs on one). The admin API is a stand-in keeping the servers in memory
 * and counting writes; the live directory is the test's, so the page files are berth's own.
 */
const edge = vi.hoisted(() => ({ liveDir: '', servers: null as CaddyServers | null, writes: 0, ensured: 0 }))
vi.mock('../../../src/edge/lifecycle.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/edge/lifecycle.js')>()),
  refuseNotRoot: () => {},
  refuseDamagedEdge: async () => {},
  edgeConfigNow: async () => (edge.servers ? { apps: { http: { servers: edge.servers } } } : undefined),
  edgeLiveDir: async () => edge.liveDir,
  ensureEdge: async () => {
    edge.ensured++
    const admin = {
      get: async () => ({ value: edge.servers }),
      updateServers: async (change: (current: CaddyServers | null) => CaddyServers) => {
        const next = change(edge.servers)
        if (JSON.stringify(next) === JSON.stringify(edge.servers)) return
        edge.writes++
        edge.servers = next
      },
      updateApps: async (change: (current: CaddyApps | null) => CaddyApps) => {
        const next = change({ http: { servers: edge.servers ?? {} } }).http?.servers ?? null
        if (JSON.stringify(next) === JSON.stringify(edge.servers)) return
        edge.writes++
        edge.servers = next
      },
    }
    return { admin, liveDir: edge.liveDir, files: localFiles }
  },
}))

const app = useTestApp()
const ROUTE = { listen: 8080, upstreams: { blue: '127.0.0.1:22001', green: '127.0.0.1:22002' } }
const ID = 'berth-shop-production-8080'

beforeEach(async () => {
  edge.liveDir = join(app.dir, 'edge-live')
  edge.servers = { 'berth-8080': { listen: [':8080'], routes: [edgeRouteJson('shop', 'production', ROUTE)] } }
  edge.writes = 0
  edge.ensured = 0
  await setLive(localFiles, edge.liveDir, 'shop', 'production', 'blue')
})

function run(over: Partial<MaintenanceRequest> = {}) {
  const runner = fakeRunner().always('docker version', DOCKER_VERSION).always('docker compose version', COMPOSE_VERSION)
  const { deps, told } = flowDeps(app.config, runner.run)
  const request: MaintenanceRequest = { config: app.config, envName: 'production', on: true, command: 'berth maintenance production on', ...over }
  return { result: maintenance(request, deps), told, runner }
}

const page = () => readMaintenance(localFiles, edge.liveDir, 'shop', 'production')

/** Every file under the state directory and the live directory, with its content: what a refusal must leave as it was. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (root: string, d: string) => {
    let names: string[] = []
    try {
      names = readdirSync(d)
    } catch {
      return
    }
    for (const name of names) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(root, p)
      else out[`${relative(app.dir, p)}`] = readFileSync(p, 'utf8')
    }
  }
  walk(app.dir, app.config.stateDir)
  walk(app.dir, edge.liveDir)
  return out
}

describe('maintenance on and off', () => {
  it('puts the page beside the live marker under the lock, changes no config, and audits it', async () => {
    const { result } = run({ message: 'back soon' })
    expect(await result).toMatchObject({ environment: 'production', maintenance: 'on', changed: true, since: '2026-11-22T10:00:00.000Z', message: 'back soon', routes: [ID], rewrittenRoutes: [] })
    expect(edge.writes).toBe(0)
    expect(await page()).toEqual({ since: '2026-11-22T10:00:00.000Z', message: 'back soon' })
    expect(readdirSync(join(edge.liveDir, 'shop', 'production')).sort()).toEqual(['blue', 'maintenance.html'])
    expect(await auditOf(app.config, 'production')).toEqual([
      { action: 'maintenance', by: expect.stringContaining('@') as unknown, at: expect.stringMatching(/^2026-11-22T10:00:00/) as unknown, maintenance: 'on', pageMessage: 'back soon', result: 'ok', durationMs: expect.any(Number) as unknown },
    ])
    expect(readdirSync(join(app.config.stateDir, 'production'))).not.toContain('lock')
  })

  it('keeps since when the message changes, changes nothing for the same page, and off takes it away once', async () => {
    await run({ message: 'back soon' }).result
    const again = await run({ message: 'back at 14:00' }).result
    expect(again).toMatchObject({ changed: true, since: '2026-11-22T10:00:00.000Z', message: 'back at 14:00' })
    expect((await run({ message: 'back at 14:00' }).result).changed).toBe(false)
    const off = await run({ on: false, command: 'berth maintenance production off' }).result
    expect(off).toMatchObject({ maintenance: 'off', changed: true, routes: [] })
    expect(await page()).toBeUndefined()
    expect(readdirSync(join(edge.liveDir, 'shop', 'production'))).toEqual(['blue'])
    expect((await run({ on: false }).result).changed).toBe(false)
    expect((await auditOf(app.config, 'production')).map((a) => `${a.maintenance ?? ''} ${a.pageMessage ?? '-'} ${a.result}`)).toEqual([
      'on back soon ok',
      'on back at 14:00 ok',
      'on back at 14:00 ok',
      'off - ok',
      'off - ok',
    ])
    // Off needs no admin API: it only removes the file.
    expect(edge.ensured).toBe(3)
    expect(edge.writes).toBe(0)
  })

  it('rewrites routes an earlier berth wrote without the page once, says so, and not again', async () => {
    edge.servers = { 'berth-8080': { listen: [':8080'], routes: [olderRoute('shop', 'production', ROUTE)] } }
    const first = run()
    expect(await first.result).toMatchObject({ routes: [ID], rewrittenRoutes: [ID], changed: true })
    expect(edge.writes).toBe(1)
    expect(edge.servers['berth-8080']?.routes).toEqual([edgeRouteJson('shop', 'production', ROUTE)])
    expect(first.told.warnings.join('\n')).toMatch(/berth-shop-production-8080 was written by an earlier berth, without the maintenance page: rewriting it once\. That one config change reloads the edge/)
    expect(await page()).toEqual({ since: '2026-11-22T10:00:00.000Z' })
    await run({ on: false }).result
    await run().result
    expect(edge.writes).toBe(1)
  })
})

describe('maintenance refusals: exit 2, nothing changed', () => {
  async function refused(over: Partial<MaintenanceRequest>, code: string, message: RegExp, config = app.config) {
    const before = snapshot()
    const runner = fakeRunner().always('docker version', DOCKER_VERSION).always('docker compose version', COMPOSE_VERSION)
    const { deps } = flowDeps(config, runner.run)
    const error = await maintenance({ config, envName: 'production', on: true, command: 'berth maintenance', ...over }, deps).catch((e: unknown) => e)
    expect(error).toMatchObject({ code, exitCode: 2 })
    expect((error as Error).message).toMatch(message)
    expect(snapshot()).toEqual(before)
    expect(edge.writes).toBe(0)
    expect(edge.ensured).toBe(0)
  }

  it('refuses a recreate or swarm environment: the edge answers none of its routes', async () => {
    await refused({ envName: 'staging' }, 'MAINTENANCE_UNSUPPORTED', /staging uses recreate: maintenance pages are for blue-green environments/)
    await refused({ envName: 'staging', on: false }, 'MAINTENANCE_UNSUPPORTED', /staging uses recreate/)
    const swarm = withEnvironment(app.config, 'staging', { target: 'swarm' })
    await refused({ envName: 'staging' }, 'MAINTENANCE_UNSUPPORTED', /staging uses swarm/, swarm)
  })

  it('refuses an environment with no routes on the edge (never deployed, or taken down)', async () => {
    edge.servers = null
    await refused({}, 'NOT_ROUTED', /production has no routes on the edge: it was never deployed, or it was taken down/)
    edge.servers = { 'berth-8080': { listen: [':8080'], routes: [edgeRouteJson('shop', 'production-2', ROUTE)] } }
    await refused({}, 'NOT_ROUTED', /production has no routes on the edge/)
  })

  it('refuses a message that cannot be a page, and a message with off', async () => {
    await refused({ message: ' ' }, 'USAGE', /--message is empty/)
    await refused({ message: 'x'.repeat(1001) }, 'USAGE', /--message is 1001 characters long/)
    await refused({ on: false, message: 'back soon' }, 'USAGE', /--message goes with on/)
  })

  it('refuses an unknown environment', async () => {
    await refused({ envName: 'qa' }, 'UNKNOWN_ENVIRONMENT', /qa/)
  })
})
