import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { request } from 'undici'
import { parse, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { defaultDeps, type Deps } from '../../src/deploy/context.js'
import { CaddyAdmin } from '../../src/edge/admin.js'
import { canonicalJson } from '../../src/edge/admin.js'
import { type EdgeColour, type EdgeRoute, environmentRoutes, LIVE_ROOT } from '../../src/edge/caddy.js'
import { edgeComposeFile, edgeLiveDir, edgeRoutes, edgePaths, edgeStatus, edgeTarget, ensureEdge, removeRoutes, switchRoutes } from '../../src/edge/edge.js'
import { clearLive, readLive } from '../../src/edge/live.js'
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
let liveDir: string

const upstream = (name: keyof typeof UPSTREAMS) => `127.0.0.1:${UPSTREAMS[name]}`

/** A route whose blue colour is one upstream and green another. */
function route(listen: number, blue: keyof typeof UPSTREAMS, green: keyof typeof UPSTREAMS, host?: string): EdgeRoute {
  return { listen, ...(host ? { host } : {}), upstreams: { blue: upstream(blue), green: upstream(green) } }
}

const A_ROUTES = [route(LISTEN_A, 'up1', 'up2'), route(SHARED, 'up1', 'up2', 'a.test')]
const B_ROUTES = [route(LISTEN_B, 'up3', 'up2'), route(SHARED, 'up3', 'up2', 'b.test')]

const switchTo = (env: string, colour: EdgeColour, routes: readonly EdgeRoute[]) => switchRoutes(deps, edge, liveDir, APP, env, colour, routes)

async function edgeConfig(): Promise<string> {
  return canonicalJson((await new CaddyAdmin(edge.adminPort).get('/config/')).value)
}

/** GET /env through the edge, optionally for a Host; resolves to the upstream's name or the status. */
async function through(listen: number, host?: string): Promise<string> {
  const res = await request(`http://127.0.0.1:${listen}/env`, { headers: host ? { host } : {}, reset: true })
  const body = (await res.body.text()).trim()
  return res.statusCode === 200 ? body : `HTTP ${res.statusCode}`
}

function edgeDown(): void {
  const target = edgeTarget(edgePaths())
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

  afterAll(async () => {
    if (liveDir) for (const env of ['a', 'b', 'c']) await clearLive(liveDir, APP, env)
    edgeDown()
    removeUpstreams()
    spawnSync('docker', ['image', 'rm', UPSTREAM_IMAGE], { stdio: 'ignore' })
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('starts the edge once, with its admin API on loopback only, an empty http app and the live markers mounted read-only', async () => {
    liveDir = await ensureEdge(deps, edge, stateDir)
    const id = edgeContainer()
    expect(id).not.toBe('')
    expect(docker('inspect', '--format', '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}', id)).toBe('host unless-stopped')
    const mounts = JSON.parse(docker('inspect', '--format', '{{json .Mounts}}', id)) as { Source: string; Destination: string; RW: boolean }[]
    expect(mounts.find((m) => m.Destination === LIVE_ROOT)).toMatchObject({ Source: liveDir, RW: false })
    expect(await edgeLiveDir(deps)).toBe(liveDir)

    expect(await ensureEdge(deps, edge, stateDir)).toBe(liveDir)
    expect(edgeContainer()).toBe(id)

    const config = (await new CaddyAdmin(edge.adminPort).get('/config/')).value
    expect(config).toEqual({ admin: { listen: `127.0.0.1:${edge.adminPort}` }, apps: { http: { servers: {} } } })
    const status = await edgeStatus(deps, edge)
    expect(status).toMatchObject({ running: true, adminListeners: [`127.0.0.1:${edge.adminPort}`], adminLoopbackOnly: true, routes: [], liveDir })
  })

  it('routes one environment to its live colour, then shares a listen port by host with another', async () => {
    await switchTo('a', 'blue', A_ROUTES.slice(0, 1))
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await readLive(liveDir, APP, 'a')).toBe('blue')

    await switchTo('a', 'blue', A_ROUTES)
    await switchTo('b', 'blue', B_ROUTES)
    expect(await through(LISTEN_B)).toBe('up3')
    expect(await through(SHARED, 'a.test')).toBe('up1')
    expect(await through(SHARED, 'b.test:19122')).toBe('up3')
    // A Host no route matches gets Caddy's empty answer, never another environment's upstream.
    expect(await through(SHARED, 'other.test')).toBe('')
  })

  it("switches A's routes together without touching B's, and without changing the edge's config", async () => {
    const before = environmentRoutes(await edgeRoutes(edge), APP, 'b')
    expect(before).toHaveLength(2)
    const config = await edgeConfig()
    await switchTo('a', 'green', A_ROUTES)
    expect(await through(LISTEN_A)).toBe('up2')
    expect(await through(SHARED, 'a.test')).toBe('up2')
    expect(await through(LISTEN_B)).toBe('up3')
    expect(await through(SHARED, 'b.test')).toBe('up3')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual(before)
    // The switch was the marker's rename: no config change, so no reload of any server.
    expect(await edgeConfig()).toBe(config)
    expect(await readLive(liveDir, APP, 'b')).toBe('blue')
  })

  it('fails no request of a keep-alive client while its environment switches back and forth', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    const seen = new Map<string, number>()
    const failures: string[] = []
    let switching = true
    const get = () =>
      new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: LISTEN_A, path: '/env', agent }, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => {
            if (res.statusCode === 200) seen.set(body.trim(), (seen.get(body.trim()) ?? 0) + 1)
            else failures.push(`HTTP ${res.statusCode}`)
            resolve()
          })
        })
        req.on('error', (error) => (failures.push(error.message), resolve()))
      })
    const clients = Array.from({ length: 8 }, async () => {
      while (switching) await get()
    })
    for (let i = 0; i < 20; i++) {
      await switchTo('a', i % 2 === 0 ? 'blue' : 'green', A_ROUTES)
      await sleep(50)
    }
    switching = false
    await Promise.all(clients)
    agent.destroy()
    expect(failures).toEqual([])
    expect([...seen.keys()].sort()).toEqual(['up1', 'up2'])
    expect(await readLive(liveDir, APP, 'a')).toBe('green')
  })

  it('lands two environments changing their routes at the same moment (If-Match retries), neither undoing the other', async () => {
    await Promise.all([switchTo('a', 'blue', [...A_ROUTES, route(19123, 'up1', 'up2')]), switchTo('b', 'green', [...B_ROUTES, route(19124, 'up3', 'up2')])])
    expect([await through(LISTEN_A), await through(SHARED, 'a.test'), await through(19123), await through(LISTEN_B), await through(SHARED, 'b.test'), await through(19124)]).toEqual([
      'up1',
      'up1',
      'up1',
      'up2',
      'up2',
      'up2',
    ])
    await Promise.all([switchTo('a', 'blue', A_ROUTES), switchTo('b', 'green', B_ROUTES)])
    await expect(through(19123)).rejects.toThrow()
  })

  it('refuses a route another environment serves, and passes on Caddy refusing a port in use, changing nothing', async () => {
    const before = await edgeRoutes(edge)
    await expect(switchTo('c', 'blue', [route(LISTEN_B, 'up1', 'up2')])).rejects.toBeInstanceOf(EdgeRouteConflictError)

    const inUse = switchTo('c', 'blue', [route(UPSTREAMS.up1, 'up2', 'up3')])
    await expect(inUse).rejects.toBeInstanceOf(EdgeAdminError)
    await expect(inUse).rejects.toThrow(/address already in use/)
    expect(await edgeRoutes(edge)).toEqual(before)
    expect(await readLive(liveDir, APP, 'c')).toBeUndefined()
  })

  it('keeps every route and live colour across a restart of the edge container (autosave + --resume)', async () => {
    const before = await edgeRoutes(edge)
    docker('restart', '--time', '2', edgeContainer())
    await ensureEdge(deps, edge, stateDir)
    expect(await edgeRoutes(edge)).toEqual(before)
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await through(SHARED, 'b.test')).toBe('up2')
    expect((await edgeStatus(deps, edge)).adminLoopbackOnly).toBe(true)
  })

  it('removes an environment from the edge, closing the listen port only it used, and its marker', async () => {
    await removeRoutes(deps, edge, APP, 'b')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual([])
    expect(await readLive(liveDir, APP, 'b')).toBeUndefined()
    await expect(through(LISTEN_B)).rejects.toThrow()
    expect(await through(SHARED, 'b.test')).toBe('')
    expect(await through(SHARED, 'a.test')).toBe('up1')
  })

  it('refuses an edge started without the live directory (an earlier berth), naming the command that recreates it', async () => {
    edgeDown()
    const file = join(stateDir, 'old-edge.yaml')
    const doc = parse(edgeComposeFile(edge, liveDir)) as { services: { caddy: { volumes: unknown[] } } }
    doc.services.caddy.volumes = doc.services.caddy.volumes.slice(0, 1)
    writeFileSync(file, stringify(doc))
    docker('compose', '-p', 'berth-edge', '-f', file, 'up', '--detach')
    const id = edgeContainer()
    await expect(ensureEdge(deps, edge, stateDir)).rejects.toThrow(/has no live directory mounted at \/berth\/live/)
    await expect(ensureEdge(deps, edge, stateDir)).rejects.toMatchObject({ hint: expect.stringMatching(/docker compose -p berth-edge -f .*compose\.yaml up -d --force-recreate/) })
    expect(edgeContainer()).toBe(id)
    expect((await edgeStatus(deps, edge)).error).toMatch(/mounts no live directory/)
  })
})
