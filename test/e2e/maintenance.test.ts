import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { CaddyAdmin, canonicalJson } from '../../src/edge/admin.js'
import { edgePaths } from '../../src/edge/paths.js'
import { berth, cleanApp, copyFixtures, docker, expectRefused, httpGet, repoRoot, requireEngine } from './engine.js'

/**
 * SPEC §9 `berth maintenance` on a real edge: one blue-green environment answers its maintenance page while
 * another's route on the same edge keeps serving a keep-alive client, and the edge never reloads for it.
 * beta also has an HTTPS route (tls: internal, listen 443, so port 80 redirects its host): served with a
 * certificate of the edge's own CA, switched and paged as its plain route is, and the CA survives a restart.
 */

const APP = 'berthmaint'
/** alpha and beta are blue-green behind the edge; gamma is recreate; delta is blue-green and never deployed. */
const ENVS = ['alpha', 'beta', 'gamma', 'delta']
const PORTS = { alpha: 19293, beta: 19294, gamma: 19295, delta: 19296 }
const ALPHA = `http://127.0.0.1:${PORTS.alpha}`
const BETA = `http://127.0.0.1:${PORTS.beta}`
/** beta's HTTPS route's name: curl is told it is 127.0.0.1 (--resolve), and trusts the edge's root certificate only (--cacert). */
const BETA_HOST = 'beta.berth.test'
/** Where Caddy keeps its local CA's root (XDG_DATA_HOME=/data/data in the edge's compose file): on the edge's volume. */
const ROOT_CRT = '/data/data/caddy/pki/authorities/local/root.crt'

let root: string
let dir: string
let edgeDir: string
const savedEdgeDir = process.env.BERTH_EDGE_DIR

const DEPLOY_YML = `# berth maintenance end-to-end fixture: the web and store of ../app, two blue-green environments on one edge.
app: ${APP}
compose: [compose.yaml]
health:
  timeout: 30s
  interval: 1s
  http:
    - url: http://127.0.0.1:\${WEB_PORT}/health
      contains: ok
edge:
  image: berth-edge:local
environments:
${['alpha', 'beta', 'delta']
  .map(
    (env) =>
      `  ${env}:\n    env_file: env/${env}.env\n    strategy: blue-green\n    stateful: [store]\n    routes:\n      - { listen: ${PORTS[env as keyof typeof PORTS]}, service: web, port: 8080 }\n` +
      (env === 'beta'
        ? `      - { listen: 443, service: web, port: 8080, host: ${BETA_HOST}, tls: internal }\n` +
          // Its https probe is sent to each new colour's own port over plain HTTP, then through the edge over HTTPS.
          `    health:\n      http:\n        - { url: "http://127.0.0.1:\${WEB_PORT}/health", contains: ok }\n        - { url: "https://${BETA_HOST}/health", contains: ok }\n`
        : '') +
      '    drain: 0s\n',
  )
  .join('')}  gamma:
    env_file: env/gamma.env
    compose: [compose.published.yaml]
`

function setVersion(version: string): void {
  writeFileSync(join(root, 'app', 'web', 'www', 'version'), `${version}\n`)
}

function cleanAll(): void {
  cleanApp(APP, ENVS.flatMap((e) => [e, `${e}-blue`, `${e}-green`]))
  execFileSync('docker', ['compose', '-p', 'berth-edge', 'down', '--volumes', '--timeout', '1'], { stdio: 'ignore' })
  rmSync(join(edgePaths().live, APP), { recursive: true, force: true })
}

const admin = () => new CaddyAdmin({ socket: join(edgePaths().admin, 'admin.sock') })

/** The edge's whole config, canonical: equal before and after means Caddy did not reload. */
async function edgeConfig(): Promise<string> {
  return canonicalJson((await admin().get('/config/')).value)
}

/** One request on a new connection, with its headers. */
function request(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    req.end(method === 'POST' ? 'a=b' : undefined)
  })
}

/**
 * A client that keeps one connection open and sends GET /version on it every 20 ms until stopped: how many
 * answers were right, how many failed, and how many connections it needed (1: none was ever closed on it).
 */
function keepAliveClient(url: string, body: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const sockets = new Set<unknown>()
  const result = { ok: 0, failed: 0, failures: [] as string[], connections: 0 }
  let stop = false
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.get(`${url}/version`, { agent, timeout: 15000 }, (res) => {
        sockets.add(res.socket)
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          if (res.statusCode === 200 && text.trim() === body) result.ok++
          else (result.failed++, result.failures.push(`HTTP ${res.statusCode}: ${text.trim().slice(0, 80)}`))
          resolve()
        })
      })
      req.on('timeout', () => req.destroy(new Error('timed out')))
      req.on('error', (error) => {
        result.failed++
        result.failures.push(error.message)
        resolve()
      })
    })
  const loop = (async () => {
    while (!stop) {
      await once()
      await sleep(20)
    }
  })()
  return {
    async stop() {
      stop = true
      await loop
      agent.destroy()
      result.connections = sockets.size
      return result
    },
  }
}

function statusOf(env: string) {
  const r = berth(dir, ['status', env, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { environments: { colours?: { live?: string; maintenance?: { since: string; message?: string } } }[] }).environments[0]
}

function lastAudit(env: string): Record<string, unknown> {
  const lines = readFileSync(join(dir, '.berth', env, 'audit.log'), 'utf8').trim().split('\n')
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>
}

function maintenance(env: string, ...args: string[]) {
  const r = berth(dir, ['maintenance', env, ...args])
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0)
  return r
}

/** Waits for a URL to answer `status` (the edge coming back after a restart). */
async function waitFor(url: string, status: number): Promise<void> {
  const deadline = Date.now() + 30_000
  let last = 0
  while (Date.now() < deadline) {
    last = (await httpGet(url).catch(() => ({ status: 0 }))).status
    if (last === status) return
    await sleep(250)
  }
  throw new Error(`${url} answered ${last}, not ${status}, within 30 s`)
}

const edgeContainer = () => docker('ps', '--quiet', '--filter', 'label=com.docker.compose.project=berth-edge')

/** The edge's root certificate, copied out of its container (so out of its data volume). */
function rootCertificate(): string {
  const file = join(root, 'root.crt')
  docker('cp', `${edgeContainer()}:${ROOT_CRT}`, file)
  return readFileSync(file, 'utf8')
}

/** curl of beta's HTTPS route, trusting only the edge's root certificate; its exit code, status and body. */
function curlHttps(path: string, ca: string): { code: number; status: number; body: string; stderr: string } {
  const caFile = join(root, 'ca.crt')
  writeFileSync(caFile, ca)
  const r = spawnSync('curl', ['-sS', '--max-time', '5', '--cacert', caFile, '--resolve', `${BETA_HOST}:443:127.0.0.1`, '-w', '\n%{http_code}', `https://${BETA_HOST}${path}`], { encoding: 'utf8' })
  const lines = r.stdout.trimEnd().split('\n')
  return { code: r.status ?? -1, status: Number(lines.pop()), body: lines.join('\n').trim(), stderr: r.stderr }
}

/** Waits until beta's HTTPS route answers 200 with `body` (the certificate is issued once the route is written, in the background). */
async function waitHttps(body: string, ca: string): Promise<void> {
  const deadline = Date.now() + 30_000
  let last = curlHttps('/version', ca)
  while (!(last.code === 0 && last.status === 200 && last.body === body) && Date.now() < deadline) {
    await sleep(250)
    last = curlHttps('/version', ca)
  }
  expect(last, 'https through the edge').toMatchObject({ code: 0, status: 200, body })
}

describe('maintenance pages on the edge', () => {
  beforeAll(async () => {
    requireEngine()
    edgeDir = mkdtempSync(join(tmpdir(), 'berth-e2e-maint-edgedir-'))
    process.env.BERTH_EDGE_DIR = edgeDir
    execFileSync('bash', [join(repoRoot, 'scripts', 'edge-image.sh')], { stdio: 'ignore' })
    cleanAll()
    root = copyFixtures()
    dir = join(root, 'bluegreen')
    writeFileSync(join(dir, 'deploy.yml'), DEPLOY_YML)
    for (const [env, port] of Object.entries(PORTS)) {
      writeFileSync(join(dir, 'env', `${env}.env`), `WEB_PORT=${port}\nAPP_ENV=${env}\nSECRET_TOKEN=fixture-maint-${env}-token-7f21\n`)
    }
    setVersion('v1')
    const alpha = berth(dir, ['deploy', 'alpha'])
    expect(alpha.code, alpha.stderr).toBe(0)
    // beta's HTTPS route on 443 needs port 80 for its redirect: held by another process, the deploy is refused before anything changes.
    const holder = net.createServer()
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(80, '0.0.0.0', resolve))
    try {
      const config = await edgeConfig()
      const refused = berth(dir, ['deploy', 'beta'])
      expect(refused.code, refused.stderr).toBe(2)
      expect(refused.stderr).toMatch(/beta: port 80 is taken on the edge's host by something other than the edge, and the edge needs it to redirect beta\.berth\.test to https/)
      expect(await edgeConfig()).toBe(config)
      expect(docker('ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${APP}-beta-blue`)).toBe('')
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
    const beta = berth(dir, ['deploy', 'beta'])
    expect(beta.code, beta.stderr).toBe(0)
  }, 180_000)

  afterAll(() => {
    cleanAll()
    rmSync(root, { recursive: true, force: true })
    rmSync(edgeDir, { recursive: true, force: true })
    if (savedEdgeDir === undefined) delete process.env.BERTH_EDGE_DIR
    else process.env.BERTH_EDGE_DIR = savedEdgeDir
  })

  it("answers alpha's routes with the page, 503 and Retry-After, while beta's keep-alive client sees no failure and the edge never reloads", async () => {
    expect(await httpGet(`${ALPHA}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(await httpGet(`${BETA}/version`)).toEqual({ status: 200, body: 'v1' })
    const before = await edgeConfig()
    const client = keepAliveClient(BETA, 'v1')
    try {
      await sleep(300)
      const on = maintenance('alpha', 'on', '--message', 'back soon <b>&</b>')
      expect(on.stdout).toMatch(/^alpha is in maintenance since \S+: its 1 route answers 503 with "back soon <b>&<\/b>"\nto undo: berth maintenance alpha off/)
      for (const method of ['GET', 'POST', 'HEAD']) {
        const res = await request(`${ALPHA}/version`, method)
        expect(res.status, method).toBe(503)
        expect(res.headers['retry-after']).toBe('120')
        expect(res.headers['cache-control']).toBe('no-store')
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
        if (method !== 'HEAD') expect(res.body).toContain('<p>back soon &#60;b&#62;&#38;&#60;/b&#62;</p>')
      }
      expect(await edgeConfig()).toBe(before)
      await sleep(300)

      const shown = statusOf('alpha')
      expect(shown?.colours?.maintenance).toEqual({ since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown, message: 'back soon <b>&</b>' })
      expect(berth(dir, ['status', 'alpha']).stdout).toMatch(/ {2}maintenance: ON since \S+, its routes answer 503 with "back soon <b>&<\/b>" \(berth maintenance alpha off ends it\)/)
      expect(statusOf('beta')?.colours?.maintenance).toBeUndefined()
      expect(lastAudit('alpha')).toMatchObject({ action: 'maintenance', maintenance: 'on', pageMessage: 'back soon <b>&</b>', result: 'ok' })
      const doctor = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as { checks: { id: string; status: string; summary: string }[] }
      expect(doctor.checks.find((c) => c.id === 'edge')).toMatchObject({ status: 'ok', summary: expect.stringMatching(/; in maintenance \(routes answer 503\): alpha$/) as unknown })

      const off = maintenance('alpha', 'off', '--json')
      expect(JSON.parse(off.stdout)).toMatchObject({ environment: 'alpha', maintenance: 'off', changed: true })
      expect(await httpGet(`${ALPHA}/version`)).toEqual({ status: 200, body: 'v1' })
      expect(await edgeConfig()).toBe(before)
      expect(lastAudit('alpha')).toMatchObject({ action: 'maintenance', maintenance: 'off', result: 'ok' })
      expect(statusOf('alpha')?.colours?.maintenance).toBeUndefined()
      await sleep(300)
    } finally {
      const seen = await client.stop()
      expect(seen.failures).toEqual([])
      expect(seen.failed).toBe(0)
      expect(seen.ok).toBeGreaterThan(20)
      // One connection the whole time: nothing on the edge closed it.
      expect(seen.connections).toBe(1)
    }
  }, 60_000)

  it("serves beta's tls: internal route over HTTPS with the edge's own CA, redirects its host on port 80, switches and pages it like the plain route, and keeps the CA through a restart", async () => {
    const ca = rootCertificate()
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/)
    await waitHttps('v1', ca)
    // The certificate is for the name, from the edge's CA: curl trusts nothing else here.
    const untrusted = spawnSync('curl', ['-sS', '--max-time', '5', '--resolve', `${BETA_HOST}:443:127.0.0.1`, `https://${BETA_HOST}/version`], { encoding: 'utf8' })
    expect(untrusted.status).not.toBe(0)
    const redirect = spawnSync('curl', ['-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--resolve', `${BETA_HOST}:80:127.0.0.1`, `http://${BETA_HOST}/version?x=1`], { encoding: 'utf8' })
    expect(redirect.stdout).toBe(`308 https://${BETA_HOST}/version?x=1`)
    // The plain route of the same environment is still plain HTTP.
    expect(await httpGet(`${BETA}/version`)).toEqual({ status: 200, body: 'v1' })

    // A switch is the live marker, for the HTTPS route as for the plain one: deploy v2, then the instant rollback to v1.
    setVersion('v2')
    const deploy = berth(dir, ['deploy', 'beta'])
    expect(deploy.code, deploy.stderr).toBe(0)
    expect(curlHttps('/version', ca)).toMatchObject({ code: 0, status: 200, body: 'v2' })
    const rollback = berth(dir, ['rollback', 'beta', '--yes'])
    expect(rollback.code, rollback.stderr).toBe(0)
    expect(curlHttps('/version', ca)).toMatchObject({ code: 0, status: 200, body: 'v1' })
    setVersion('v1')

    maintenance('beta', 'on', '--message', 'tls too')
    const paged = curlHttps('/version', ca)
    expect(paged).toMatchObject({ code: 0, status: 503 })
    expect(paged.body).toContain('<p>tls too</p>')
    maintenance('beta', 'off')
    expect(curlHttps('/version', ca)).toMatchObject({ code: 0, status: 200, body: 'v1' })

    // The CA (and the certificate) are in Caddy's data dir on the edge's volume: a restart keeps them.
    docker('restart', '--time', '1', edgeContainer())
    await waitFor(`${BETA}/version`, 200)
    expect(rootCertificate()).toBe(ca)
    await waitHttps('v1', ca)
  }, 90_000)

  it('rewrites routes an earlier berth wrote without the page once, keeps the page through an edge restart, and deploys behind it', async () => {
    // alpha's route as a berth before maintenance wrote it: no maintenance branch.
    const handle = `/id/berth-${APP}-alpha-${PORTS.alpha}/handle/0/routes`
    const branches = (await admin().get(handle)).value as unknown[]
    await admin().write({ method: 'PATCH', path: handle, body: branches.slice(1) })
    const older = await edgeConfig()
    const first = berth(dir, ['maintenance', 'alpha', 'on'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/berth-berthmaint-alpha-19293 was written by an earlier berth, without the maintenance page: rewriting it once/)
    expect(first.stdout).toMatch(/its 1 route \(1 rewritten first: one reload of the edge\) answers 503 with the default page/)
    const rewritten = await edgeConfig()
    expect(rewritten).not.toBe(older)
    expect(((await admin().get(handle)).value as unknown[]).length).toBe(3)
    const page = await request(`${ALPHA}/`)
    expect(page.status).toBe(503)
    expect(page.body).toContain('This service is down for maintenance and will be back shortly.')
    // Again, with a message: the page changes, the config does not, since is kept.
    const since = statusOf('alpha')?.colours?.maintenance?.since
    maintenance('alpha', 'on', '-m', 'still on')
    expect(await edgeConfig()).toBe(rewritten)
    expect(statusOf('alpha')?.colours?.maintenance).toEqual({ since, message: 'still on' })

    // The page is a file on the host and the routes are autosaved: both are back after the edge restarts.
    docker('restart', '--time', '1', edgeContainer())
    await waitFor(`${BETA}/version`, 200)
    const after = await request(`${ALPHA}/version`)
    expect(after.status).toBe(503)
    expect(after.body).toContain('still on')
    expect(statusOf('alpha')?.colours?.maintenance?.message).toBe('still on')

    // A deploy goes live behind the page: its probes through the edge would get the page, so they are skipped.
    setVersion('v2')
    const deploy = berth(dir, ['deploy', 'alpha'])
    expect(deploy.code, deploy.stderr).toBe(0)
    expect(deploy.stderr).toMatch(/alpha is in maintenance: its routes answer the maintenance page, so the probes through the edge are skipped/)
    expect((await request(`${ALPHA}/version`)).status).toBe(503)
    maintenance('alpha', 'off')
    expect(await httpGet(`${ALPHA}/version`)).toEqual({ status: 200, body: 'v2' })
    expect(await httpGet(`${BETA}/version`)).toEqual({ status: 200, body: 'v1' })
  }, 120_000)

  it('refuses a recreate environment, one never deployed and a message with off (exit 2, nothing changed)', () => {
    const live = () => (existsSync(join(edgePaths().live, APP)) ? execFileSync('find', [join(edgePaths().live, APP)], { encoding: 'utf8' }) : '')
    const liveBefore = live()
    expectRefused(dir, ['maintenance', 'gamma', 'on'], 2, /gamma uses recreate: maintenance pages are for blue-green environments/)
    expectRefused(dir, ['maintenance', 'delta', 'on'], 2, /delta has no routes on the edge: it was never deployed, or it was taken down/)
    expectRefused(dir, ['maintenance', 'beta', 'off', '--message', 'x'], 2, /--message goes with on/)
    expectRefused(dir, ['maintenance', 'beta', 'sideways'], 2, /Expected sideways to be one of: on, off/)
    const json = berth(dir, ['maintenance', 'gamma', 'on', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'MAINTENANCE_UNSUPPORTED', exitCode: 2 } })
    expect(live()).toBe(liveBefore)
    expect(statusOf('beta')?.colours?.maintenance).toBeUndefined()
  })

  it('goes with the routes when the environment is taken down', async () => {
    maintenance('alpha', 'on')
    expect(existsSync(join(edgePaths().live, APP, 'alpha', 'maintenance.html'))).toBe(true)
    const down = berth(dir, ['down', 'alpha'])
    expect(down.code, down.stderr).toBe(0)
    expect(existsSync(join(edgePaths().live, APP, 'alpha'))).toBe(false)
    expect(await httpGet(`${BETA}/version`)).toEqual({ status: 200, body: 'v1' })
    expectRefused(dir, ['maintenance', 'alpha', 'on'], 2, /alpha has no routes on the edge/)
  })
})
