import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { request } from 'undici'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { defaultDeps, type Deps } from '../../src/run/context.js'
import { CaddyAdmin, canonicalJson } from '../../src/edge/admin.js'
import { type EdgeColour, type EdgeRoute, environmentRoutes, LIVE_ROOT, nextServers, routeId } from '../../src/edge/caddy.js'
import { type Edge, ensureEdge } from '../../src/edge/lifecycle.js'
import { edgePaths } from '../../src/edge/paths.js'
import { edgeRoutes, removeRoutes, switchRoutes } from '../../src/edge/routes.js'
import { edgeStatus } from '../../src/edge/status.js'
import { clearLive, readLive } from '../../src/edge/live.js'
import { EdgeAdminError, EdgeRouteConflictError, EdgeStartError } from '../../src/edge/errors.js'
import { silentReporter } from '../../src/progress.js'
import { clearSecrets, registerSecrets } from '../../src/secrets.js'
import { asNobody, docker, repoRoot, requireEngine, tcpListenPorts } from './engine.js'
import { environmentsWithState } from '../../src/state/paths.js'
import { localState, localTarget } from '../../src/target/local.js'
import { localFiles } from '../../src/target/files.js'
import { adminListen, initialConfig } from '../../src/edge/config.js'

const APP = 'berthedge'
const LABEL = 'berthedge.test=1'
const UPSTREAM_IMAGE = 'berthedge-up:test'
/** Caddy images of other shapes, built for the test and removed after it. */
const ENTRYPOINT_IMAGE = 'berthedge-entrypoint:test'
const BROKEN_IMAGE = 'berthedge-broken:test'
const edgeConfig = { image: 'berth-edge:local' }
/** Three upstreams on loopback, as a colour's routed service publishes them; each answers /env with its name. */
const UPSTREAMS = { up1: 19111, up2: 19112, up3: 19113 } as const
const LISTEN_A = 19120
const LISTEN_B = 19121
const SHARED = 19122
/** The admin port an earlier berth gave its edge (edge.admin_port), in the test of moving it to the socket. */
const OLD_ADMIN = '127.0.0.1:19190'

let stateDir: string
let edgeDir: string
let deps: Deps
let edge: Edge

const upstream = (name: keyof typeof UPSTREAMS) => `127.0.0.1:${UPSTREAMS[name]}`

/** A route whose blue colour is one upstream and green another. */
function route(listen: number, blue: keyof typeof UPSTREAMS, green: keyof typeof UPSTREAMS, host?: string): EdgeRoute {
  return { listen, ...(host ? { host } : {}), upstreams: { blue: upstream(blue), green: upstream(green) } }
}

const A_ROUTES = [route(LISTEN_A, 'up1', 'up2'), route(SHARED, 'up1', 'up2', 'a.test')]
const B_ROUTES = [route(LISTEN_B, 'up3', 'up2'), route(SHARED, 'up3', 'up2', 'b.test')]

const switchTo = (env: string, colour: EdgeColour, routes: readonly EdgeRoute[]) => switchRoutes(deps, edge, APP, env, colour, routes)

async function edgeConfigText(): Promise<string> {
  return canonicalJson((await edge.admin.get('/config/')).value)
}

/** GET /env through the edge, optionally for a Host; resolves to the upstream's name or the status. */
async function through(listen: number, host?: string): Promise<string> {
  const res = await request(`http://127.0.0.1:${listen}/env`, { headers: host ? { host } : {}, reset: true })
  const body = (await res.body.text()).trim()
  return res.statusCode === 200 ? body : `HTTP ${res.statusCode}`
}

function edgeDown(): void {
  spawnSync('docker', ['compose', '-p', 'berth-edge', 'down', '--volumes', '--timeout', '2'], { stdio: 'ignore' })
}

function removeUpstreams(): void {
  for (const name of Object.keys(UPSTREAMS)) spawnSync('docker', ['rm', '--force', `${APP}-${name}`], { stdio: 'ignore' })
}

function edgeContainer(): string {
  return docker('ps', '--quiet', '--no-trunc', '--filter', 'label=com.docker.compose.project=berth-edge', '--filter', 'label=berth.edge=true')
}

function edgePid(): number {
  return Number(docker('inspect', '--format', '{{.State.Pid}}', edgeContainer()))
}

/** curl of the admin API over the edge's socket; `as: 'nobody'` tries it as any local user could. */
function curlSocket(as: 'root' | 'nobody', ...args: string[]) {
  const argv = ['curl', '-sS', '--max-time', '5', '--unix-socket', edge.admin.address, '-H', 'Host: berth', ...args]
  if (as === 'nobody') return asNobody(argv)
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** Builds an image from a Dockerfile and other files, labelled as this suite's. */
function buildImage(tag: string, files: Record<string, string>): void {
  const context = mkdtempSync(join(tmpdir(), 'berth-e2e-edge-image-'))
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(context, name), text, { mode: 0o755 })
    if (files.Dockerfile?.includes('COPY busybox')) execFileSync('bash', [join(repoRoot, 'scripts', 'prepare-contexts.sh'), context], { stdio: 'ignore' })
    execFileSync('docker', ['build', '--quiet', '--label', LABEL, '--tag', tag, context], { stdio: 'ignore' })
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}

/** The edge's compose file as the previous berth wrote it: the admin API on TCP, no admin directory. */
function previousBerthEdge(liveDir: string): string {
  return stringify({
    name: 'berth-edge',
    services: {
      caddy: {
        image: edgeConfig.image,
        network_mode: 'host',
        restart: 'unless-stopped',
        command: ['caddy', 'run', '--resume', '--config', '/etc/berth-edge/initial.json'],
        environment: { XDG_CONFIG_HOME: '/data/config', XDG_DATA_HOME: '/data/data' },
        volumes: ['berth-edge-data:/data', { type: 'bind', source: liveDir, target: LIVE_ROOT, read_only: true }],
        configs: [{ source: 'initial', target: '/etc/berth-edge/initial.json' }],
        labels: { 'berth.edge': 'true' },
      },
    },
    volumes: { 'berth-edge-data': { name: 'berth-edge-data', labels: { 'berth.edge': 'true' } } },
    configs: { initial: { content: JSON.stringify({ admin: { listen: OLD_ADMIN }, apps: { http: { servers: {} } } }) } },
  })
}

describe('the edge proxy on a real engine', () => {
  const savedEdgeDir = process.env.BERTH_EDGE_DIR

  beforeAll(async () => {
    requireEngine()
    stateDir = mkdtempSync(join(tmpdir(), 'berth-e2e-edge-'))
    // The edge's own directory (live markers, admin socket, compose file), removed with everything else at the end.
    edgeDir = mkdtempSync(join(tmpdir(), 'berth-e2e-edgedir-'))
    process.env.BERTH_EDGE_DIR = edgeDir
    deps = defaultDeps(silentReporter, localTarget({ stateDir }))
    // One edge per host: start from none, whatever an earlier suite left.
    edgeDown()
    removeUpstreams()
    execFileSync('bash', [join(repoRoot, 'scripts', 'edge-image.sh'), edgeConfig.image], { stdio: 'ignore' })

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
    if (edge) for (const env of ['a', 'b', 'c']) await clearLive(localFiles, edge.liveDir, APP, env)
    edgeDown()
    removeUpstreams()
    spawnSync('docker', ['image', 'rm', UPSTREAM_IMAGE, ENTRYPOINT_IMAGE, BROKEN_IMAGE], { stdio: 'ignore' })
    rmSync(stateDir, { recursive: true, force: true })
    rmSync(edgeDir, { recursive: true, force: true })
    if (savedEdgeDir === undefined) delete process.env.BERTH_EDGE_DIR
    else process.env.BERTH_EDGE_DIR = savedEdgeDir
  })

  it('starts the edge once: admin API on a socket in a root-only directory, an empty http app, live markers mounted read-only, nothing in the app\'s state directory', async () => {
    // An earlier berth kept the edge's compose file here, where it looked like an environment named edge.
    mkdirSync(join(stateDir, 'edge'), { recursive: true })
    writeFileSync(join(stateDir, 'edge', 'compose.yaml'), '# The edge proxy of this host (SPEC §9), written by berth: changes made here are overwritten.\nname: berth-edge\n')
    writeFileSync(join(stateDir, 'edge', 'edge.env'), '')

    edge = await ensureEdge(deps, edgeConfig, stateDir)
    const paths = edgePaths()
    expect(edge.liveDir).toBe(paths.live)
    expect(edge.admin.address).toBe(join(paths.admin, 'admin.sock'))
    const id = edgeContainer()
    expect(id).not.toBe('')
    expect(docker('inspect', '--format', '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}', id)).toBe('host unless-stopped')
    const mounts = JSON.parse(docker('inspect', '--format', '{{json .Mounts}}', id)) as { Source: string; Destination: string; RW: boolean }[]
    expect(mounts.find((m) => m.Destination === LIVE_ROOT)).toMatchObject({ Source: paths.live, RW: false })
    expect(mounts.find((m) => m.Destination === '/berth/admin')).toMatchObject({ Source: paths.admin, RW: true })
    const adminDir = statSync(paths.admin)
    expect([adminDir.uid, (adminDir.mode & 0o777).toString(8)]).toEqual([0, '700'])
    expect(statSync(edge.admin.address).isSocket()).toBe(true)
    expect(existsSync(paths.composeFile)).toBe(true)
    expect(await environmentsWithState(localState(stateDir))).toEqual([])

    expect(await ensureEdge(deps, edgeConfig, stateDir)).toMatchObject({ liveDir: edge.liveDir, admin: { address: edge.admin.address } })
    expect(edgeContainer()).toBe(id)

    expect((await edge.admin.get('/config/')).value).toEqual(initialConfig())
    expect(await edgeStatus(deps)).toMatchObject({ running: true, adminListen: 'unix//berth/admin/admin.sock', routes: [], liveDir: edge.liveDir, problems: [] })
    // No TCP port at all: the edge listens only where routes say.
    expect(tcpListenPorts(edgePid())).toEqual([])
  })

  it('routes one environment to its live colour, then shares a listen port by host with another', async () => {
    await switchTo('a', 'blue', A_ROUTES.slice(0, 1))
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await readLive(localFiles, edge.liveDir, APP, 'a')).toBe('blue')

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
    const config = await edgeConfigText()
    await switchTo('a', 'green', A_ROUTES)
    expect(await through(LISTEN_A)).toBe('up2')
    expect(await through(SHARED, 'a.test')).toBe('up2')
    expect(await through(LISTEN_B)).toBe('up3')
    expect(await through(SHARED, 'b.test')).toBe('up3')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual(before)
    // The switch was the marker's rename: no config change, so no reload of any server.
    expect(await edgeConfigText()).toBe(config)
    expect(await readLive(localFiles, edge.liveDir, APP, 'b')).toBe('blue')
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
    expect(await readLive(localFiles, edge.liveDir, APP, 'a')).toBe('green')
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

  it('lets no user but root reach the admin API: nobody neither reads the routes nor rewrites one, on the socket or on any TCP port', async () => {
    const config = await edgeConfigText()
    const blueDial = `/id/${routeId(APP, 'a', { listen: LISTEN_A })}/handle/0/routes/1/handle/0/upstreams/0/dial`
    const write = ['-X', 'PATCH', '-H', 'Content-Type: application/json', '-d', '"127.0.0.1:1"']
    // Root reads it over the socket: the command is right, and the refusals below are the directory's.
    const root = curlSocket('root', 'http://berth/config/')
    expect(root.code, root.stderr).toBe(0)
    expect(root.stdout).toContain(routeId(APP, 'a', { listen: LISTEN_A }))

    const read = curlSocket('nobody', 'http://berth/config/')
    expect([read.code, read.stdout]).toEqual([7, ''])
    expect(read.stderr).toMatch(/Permission denied|Couldn't connect/)
    expect(curlSocket('nobody', ...write, `http://berth${blueDial}`).code).toBe(7)

    // Every TCP port Caddy listens on is a route's, and none of them (nor Caddy's default 2019) is its admin API.
    const ports = tcpListenPorts(edgePid())
    expect(ports).toEqual([LISTEN_A, LISTEN_B, SHARED].sort((x, y) => x - y))
    for (const port of [2019, ...ports]) {
      const got = asNobody(['curl', '-sS', '--max-time', '5', `http://127.0.0.1:${port}/config/`])
      expect(got.stdout).not.toContain('"apps"')
      expect(got.stdout).not.toContain(routeId(APP, 'a', { listen: LISTEN_A }))
      asNobody(['curl', '-sS', '--max-time', '5', ...write, `http://127.0.0.1:${port}${blueDial}`])
    }
    expect(await edgeConfigText()).toBe(config)
    expect(await through(LISTEN_A)).toBe('up1')
  })

  it('refuses a route another environment serves, and passes on Caddy refusing a port in use, changing nothing', async () => {
    const before = await edgeRoutes(edge)
    await expect(switchTo('c', 'blue', [route(LISTEN_B, 'up1', 'up2')])).rejects.toBeInstanceOf(EdgeRouteConflictError)

    const inUse = switchTo('c', 'blue', [route(UPSTREAMS.up1, 'up2', 'up3')])
    await expect(inUse).rejects.toBeInstanceOf(EdgeAdminError)
    await expect(inUse).rejects.toThrow(/address already in use/)
    expect(await edgeRoutes(edge)).toEqual(before)
    expect(await readLive(localFiles, edge.liveDir, APP, 'c')).toBeUndefined()
  })

  it('keeps every route and live colour across a restart of the edge container (autosave + --resume)', async () => {
    const before = await edgeRoutes(edge)
    docker('restart', '--time', '2', edgeContainer())
    edge = await ensureEdge(deps, edgeConfig, stateDir)
    expect(await edgeRoutes(edge)).toEqual(before)
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await through(SHARED, 'b.test')).toBe('up2')
    expect((await edgeStatus(deps)).problems).toEqual([])
  })

  it('removes an environment from the edge, closing the listen port only it used, and its marker', async () => {
    await removeRoutes(deps, edgeConfig, stateDir, APP, 'b')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'b')).toEqual([])
    expect(await readLive(localFiles, edge.liveDir, APP, 'b')).toBeUndefined()
    await expect(through(LISTEN_B)).rejects.toThrow()
    expect(await through(SHARED, 'b.test')).toBe('')
    expect(await through(SHARED, 'a.test')).toBe('up1')
  })

  it('refuses an admin directory other users may enter (exit 2, changing nothing), and doctor names it', async () => {
    const dir = edgePaths().admin
    const config = await edgeConfigText()
    chmodSync(dir, 0o755)
    try {
      const error = await ensureEdge(deps, edgeConfig, stateDir).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'EDGE_ADMIN_DIR_OPEN', exitCode: 2, hint: `Give it back to root alone, then run again: chown root:root ${dir} && chmod 700 ${dir}` })
      expect((await edgeStatus(deps)).problems).toEqual([`the edge's admin directory ${dir} is mode 755: other users may enter it and reach the admin socket`])
    } finally {
      chmodSync(dir, 0o700)
    }
    expect(await edgeConfigText()).toBe(config)
  })

  it("moves an earlier berth's edge, its admin API on TCP, to the root-only socket, keeping its routes and live colours", async () => {
    edgeDown()
    const file = join(stateDir, 'previous-berth-edge.yaml')
    writeFileSync(file, previousBerthEdge(edge.liveDir))
    docker('compose', '-p', 'berth-edge', '-f', file, 'up', '--detach')
    const old = new CaddyAdmin({ tcp: OLD_ADMIN })
    for (let i = 0; i < 60 && !(await old.get('/config/').then(() => true, () => false)); i++) await sleep(250)
    await old.updateServers((current) => nextServers(current, APP, 'a', A_ROUTES), (ms) => sleep(ms))
    expect(await readLive(localFiles, edge.liveDir, APP, 'a')).toBe('blue')
    expect(await through(LISTEN_A)).toBe('up1')
    // The hole it had (issue 9): any local user reads every route and rewrites one.
    const read = asNobody(['curl', '-sS', '--max-time', '5', `http://${OLD_ADMIN}/config/`])
    expect(read.code, read.stderr).toBe(0)
    expect(read.stdout).toContain(routeId(APP, 'a', { listen: LISTEN_A }))
    const problems = (await edgeStatus(deps)).problems.join('\n')
    expect(problems).toMatch(/started by an earlier berth \(no \/berth\/admin mounted\)/)
    expect(problems).toMatch(/its admin API listens on TCP 127\.0\.0\.1:19190, where every local user can read and rewrite the routes/)
    const oldId = edgeContainer()
    const routesBefore = environmentRoutes(await edgeRoutes({ ...edge, admin: old }), APP, 'a')

    edge = await ensureEdge(deps, edgeConfig, stateDir)
    expect(edgeContainer()).not.toBe(oldId)
    expect(adminListen((await edge.admin.get('/config/')).value)).toBe('unix//berth/admin/admin.sock')
    expect(environmentRoutes(await edgeRoutes(edge), APP, 'a')).toEqual(routesBefore)
    expect(await through(LISTEN_A)).toBe('up1')
    expect(await through(SHARED, 'a.test')).toBe('up1')
    // Nothing answers on the old TCP port any more, not even for root; nobody cannot open the socket.
    expect(spawnSync('curl', ['-sS', '--max-time', '5', `http://${OLD_ADMIN}/config/`]).status).toBe(7)
    expect(curlSocket('nobody', 'http://berth/config/').code).toBe(7)
    expect(tcpListenPorts(edgePid())).toEqual([LISTEN_A, SHARED])
    expect(await edgeStatus(deps)).toMatchObject({ adminListen: 'unix//berth/admin/admin.sock', problems: [] })

    // Caddy saved the move: a restart resumes on the socket, the routes with it.
    docker('restart', '--time', '2', edgeContainer())
    edge = await ensureEdge(deps, edgeConfig, stateDir)
    expect(await through(LISTEN_A)).toBe('up1')
    expect(tcpListenPorts(edgePid())).toEqual([LISTEN_A, SHARED])
  })

  it('runs a Caddy image whose ENTRYPOINT is caddy itself, as custom builds have it, as well as one without (the image above)', async () => {
    edgeDown()
    buildImage(ENTRYPOINT_IMAGE, { Dockerfile: `FROM ${edgeConfig.image}\nENTRYPOINT ["/usr/bin/caddy"]\nCMD ["run", "--resume"]\n` })
    expect(docker('image', 'inspect', '--format', '{{json .Config.Entrypoint}}', ENTRYPOINT_IMAGE)).toBe('["/usr/bin/caddy"]')
    edge = await ensureEdge(deps, { image: ENTRYPOINT_IMAGE }, stateDir)
    expect(docker('inspect', '--format', '{{.Config.Image}} {{.RestartCount}}', edgeContainer())).toBe(`${ENTRYPOINT_IMAGE} 0`)
    await switchTo('a', 'green', A_ROUTES)
    expect(await through(LISTEN_A)).toBe('up2')
    expect((await edgeStatus(deps)).problems).toEqual([])
  })

  it('fails at once, showing its own last log lines (masked), when the edge container cannot start', async () => {
    edgeDown()
    // caddy on the PATH that prints a line with a secret in it and exits 1, on a busybox base.
    buildImage(BROKEN_IMAGE, {
      Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCOPY caddy /usr/bin/caddy\nENV PATH=/usr/bin:/bin\n',
      caddy: '#!/bin/sh\necho "caddy: cannot start (test image) with key edge-secret-4711"\nexit 1\n',
    })
    registerSecrets(['edge-secret-4711'])
    try {
      const started = Date.now()
      const error = (await ensureEdge(deps, { image: BROKEN_IMAGE }, stateDir).catch((e: unknown) => e)) as EdgeStartError
      // Well before the 15 s the admin API is waited for.
      expect(Date.now() - started).toBeLessThan(8000)
      expect(error).toBeInstanceOf(EdgeStartError)
      expect(error.code).toBe('EDGE_NOT_STARTING')
      expect(error.message).toMatch(new RegExp(`container berth-edge-caddy-1 \\(${BROKEN_IMAGE}\\) (keeps restarting \\((exit code 1, )?restarted \\d+ times?\\)|exited with code 1)`))
      expect(error.message).toContain('caddy: cannot start (test image) with key ****')
      expect(error.message).not.toContain('edge-secret-4711')
      expect(error.hint).toMatch(/caddy run --resume --config/)
    } finally {
      clearSecrets()
      edgeDown()
    }
  })
})
