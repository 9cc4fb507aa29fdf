import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { defaultDeps, type Deps } from '../../src/deploy/context.js'
import { CaddyAdmin } from '../../src/edge/admin.js'
import { environmentRoutes } from '../../src/edge/caddy.js'
import { edgeRoutes, edgeStatus, edgeTarget, ensureEdge, switchRoutes } from '../../src/edge/edge.js'
import { EdgeAdminError, EdgeRouteConflictError } from '../../src/edge/errors.js'
import { silentReporter } from '../../src/progress.js'
import { docker, repoRoot, requireEngine } from './engine.js'

const APP = 'berthedge'
const LABEL = 'berthedge.test=1'
const UPSTREAM_IMAGE = 'berthedge-up:test'
const edge = { image: 'berth-edge:local', adminPort: 19190 }
/** Three upstreams on loopback, as a colour's routed service publishes them; each answers /env with its name. */
const UPSTREAMS = { up1: 19111, up2: 19112, up3: 19113 } as const
const LISTEN_A = 19120
const LISTEN_B = 19121
const SHARED = 19122

let stateDir: string
let deps: Deps

const upstream = (name: keyof typeof UPSTREAMS) => `127.0.0.1:${UPSTREAMS[name]}`

/** GET /env through the edge, optionally for a Host; resolves to the upstream's name or the status. */
async function through(listen: number, host?: string): Promise<string> {
  const res = await request(`http://127.0.0.1:${listen}/env`, { headers: host ? { host } : {}, reset: true })
  const body = (await res.body.text()).trim()
  return res.statusCode === 200 ? body : `HTTP ${res.statusCode}`
}

function edgeDown(): void {
  const target = edgeTarget(stateDir)
  const files = existsSync(target.files[0] as string) ? ['-f', target.files[0] as string] : []
  spawnSync('docker', ['compose', '-p', 'berth-edge', ...files, 'down', '--volumes', '--timeout', '2'], { stdio: 'ignore' })
}

function removeUpstreams(): void {
  for (const name of Object.keys(UPSTREAMS)) spawnSync('docker', ['rm', '--force', `${APP}-${name}`], { stdio: 'ignore' })
}

function edgeContainer(): string {
  return docker('ps', '--quiet', '--no-trunc', '--filter', 'label=com.docker.compose.project=berth-edge', '--filter', 'label=berth.edge=true')
}

describe('the edge proxy on a real engine', () => {
  beforeAll(async () => {
    requireEngine()
    stateDir = mkdtempSync(join(tmpdir(), 'berth-e2e-edge-'))
    deps = defaultDeps(silentReporter)
    // One edge per host: start from none, whatever an earlier suite left.
    edgeDown()
    removeUpstreams()
    execFileSync('bash', [join(repoRoot, 'scripts', 'edge-image.sh'), edge.image], { stdio: 'ignore' })

    const context = mkdtempSync(join(tmpdir(), 'berth-e2e-edge-up-'))
    cpSync(join(repoRoot, 'test', 'fixtures', 'app', 'web'), context, { recursive: true })
    execFileSync('bash', [join(repoRoot, 'scripts', 'prepare-contexts.sh'), context], { stdio: 'ignore' })
    execFileSync('docker', ['build', '--quiet', '--label', LABEL, '--tag', UPSTREAM_IMAGE, context], { stdio: 'ignore' })
    rmSync(context, { recursive: true, force: true })
    for (const [name, port] of Object.entries(UPSTREAMS)) {
      docker('run', '--detach', '--name', `${APP}-${name}`, '--label', LABEL, '--env', `APP_ENV=${name}`, '--publish', `127.0.0.1:${port}:8080`, UPSTREAM_IMAGE)
    }
    for (const port of Object.values(UPSTREAMS)) {
      for (let i = 0; i < 50 && !(await fetch(`http://127.0.0.1:${port}/env`).then((r) => r.ok).catch(() => false)); i++) await sleep(100)
    }
  })

  afterAll(() => {
    edgeDown()
    removeUpstreams()
    spawnSync('docker', ['image', 'rm', UPSTREAM_IMAGE], { stdio: 'ignore' })
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('starts the edge once, with its admin API on loopback only and an empty http app', async () => {
    await ensureEdge(deps, edge, stateDir)
    const id = edgeContainer()
    expect(id).not.toBe('')
    expect(docker('inspect', '--format', '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}', id)).toBe('host unless-stopped')

    await ensureEdge(deps, edge, stateDir)
    expect(edgeContainer()).toBe(id)

    const config = (await new CaddyAdmin(edge.adminPort).get('/config/')).value
    expect(config).toEqual({ admin: { listen: `127.0.0.1:${edge.adminPort}` }, apps: { http: { servers: {} } } })
    const status = await edgeStatus(deps, edge)
    expect(status).toMatchObject({ running: true, adminListeners: [`127.0.0.1:${edge.adminPort}`], adminLoopbackOnly: true, routes: [] })
  })

  it('switches one environment to an upstream, then shares a listen port by host with another', async () => {
    await switchRoutes(deps, edge, APP, 'a', [{ listen: LISTEN_A, upstream: upstream('up1') }])
    expect(await through(LISTEN_A)).toBe('up1')

    await switchRoutes(deps, edge, APP, 'a', [
      { listen: LISTEN_A, upstream: upstream('up1') },
      { listen: SHARED, host: 'a.test', upstream: upstream('up1') },
    ])
    await switchRoutes(deps, edge, APP, 'b', [
      { listen: LISTEN_B, upstream: upstream('up3') },
      { listen: SHARED, host: 'b.test', upstream: upstream('up3') },
    ])
    expect(await through(LISTEN_B)).toBe('up3')
    expect(await through(SHARED, 'a.test')).toBe('up1')
    expect(await through(SHARED, 'b.test:19122')).toBe('up3')
    // A Host no route matches gets Caddy's empty answer, never another environment's upstream.
    expect(await through(SHARED, 'other.test')).toBe('')
  })

  it("switches A's routes together without touching B's", async () => {
    const before = environmentRoutes(await edgeRoutes(edge), APP, 'b')
    expect(before).toHaveLength(2)
    await switchRoutes(deps, edge, APP, 'a', [
      { listen: LISTEN_A, upstream: upstream('up2') },
      { listen: SHARED, host: 'a.test', upstream: upstream('up2') },
    ])
    expect(await through(LISTEN_A)).toBe('up2')
    expect(await through(SHARED, 'a.test')).toBe('up2')
    expect(await through(LISTEN_B)).toBe('up3')
    expect(await through(SHARED, 'b.test')).toBe('up3')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual(before)
  })

  it('lands two environments switching at the same moment (If-Match retries), neither undoing the other', async () => {
    await Promise.all([
      switchRoutes(deps, edge, APP, 'a', [
        { listen: LISTEN_A, upstream: upstream('up1') },
        { listen: SHARED, host: 'a.test', upstream: upstream('up1') },
      ]),
      switchRoutes(deps, edge, APP, 'b', [
        { listen: LISTEN_B, upstream: upstream('up2') },
        { listen: SHARED, host: 'b.test', upstream: upstream('up2') },
      ]),
    ])
    expect([await through(LISTEN_A), await through(SHARED, 'a.test'), await through(LISTEN_B), await through(SHARED, 'b.test')]).toEqual(['up1', 'up1', 'up2', 'up2'])
  })

  it('refuses a route another environment serves, and passes on Caddy refusing a port in use, changing nothing', async () => {
    const before = await edgeRoutes(edge)
    await expect(switchRoutes(deps, edge, APP, 'c', [{ listen: LISTEN_B, upstream: upstream('up1') }])).rejects.toBeInstanceOf(EdgeRouteConflictError)

    const inUse = switchRoutes(deps, edge, APP, 'c', [{ listen: UPSTREAMS.up1, upstream: upstream('up2') }])
    await expect(inUse).rejects.toBeInstanceOf(EdgeAdminError)
    await expect(inUse).rejects.toThrow(/address already in use/)
    expect(await edgeRoutes(edge)).toEqual(before)
  })

  it('keeps every route across a restart of the edge container (autosave + --resume)', async () => {
    const before = await edgeRoutes(edge)
    docker('restart', '--time', '2', edgeContainer())
    await ensureEdge(deps, edge, stateDir)
    expect(await edgeRoutes(edge)).toEqual(before)
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await through(SHARED, 'b.test')).toBe('up2')
    expect((await edgeStatus(deps, edge)).adminLoopbackOnly).toBe(true)
  })

  it('removes an environment from the edge, closing the listen port only it used', async () => {
    await switchRoutes(deps, edge, APP, 'b', [])
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual([])
    await expect(through(LISTEN_B)).rejects.toThrow()
    expect(await through(SHARED, 'b.test')).toBe('')
    expect(await through(SHARED, 'a.test')).toBe('up1')
  })
})
