import { execFileSync } from 'node:child_process'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { CaddyAdmin, canonicalJson } from '../../src/edge/admin.js'
import { edgePaths } from '../../src/edge/paths.js'
import { asNobody, berth, cleanApp, containerStarts, copyFixtures, docker, expectRefused, httpGet, repoRoot, requireEngine, startBerth, tcpListenPorts } from './engine.js'

/**
 * SPEC §9 on a real engine: blue-green environments behind the managed edge (Caddy built from Debian's
 * binary, so no registry is needed), beside a recreate sibling that must never be touched.
 */

const APP = 'berthbg'
const ENVS = ['staging', 'production', 'preview', 'canary']
const EDGE = 'http://127.0.0.1:19281'
const PREVIEW = 'http://127.0.0.1:19282'
const STAGING = 'http://127.0.0.1:19280'
const CANARY = 'http://127.0.0.1:19283'
let root: string
let dir: string
/** The edge's directory (BERTH_EDGE_DIR) for this suite: live markers, admin socket, compose file. */
let edgeDir: string
const savedEdgeDir = process.env.BERTH_EDGE_DIR
const tags = { v1: '', v2: '' }

function setVersion(version: string): void {
  writeFileSync(join(root, 'app', 'web', 'www', 'version'), `${version}\n`)
}

function cleanAll(): void {
  cleanApp(APP, ENVS.flatMap((e) => [e, `${e}-blue`, `${e}-green`]))
  execFileSync('docker', ['compose', '-p', 'berth-edge', 'down', '--volumes', '--timeout', '1'], { stdio: 'ignore' })
  rmSync(join(edgePaths().live, APP), { recursive: true, force: true })
}

const adminSocket = () => join(edgePaths().admin, 'admin.sock')

/** The edge's whole config, canonical: equal before and after means Caddy did not reload. */
async function edgeConfig(): Promise<string> {
  return canonicalJson((await new CaddyAdmin({ socket: adminSocket() }).get('/config/')).value)
}

function releases(env: string): { tag: string; status: string; colour?: string }[] {
  return (JSON.parse(berth(dir, ['releases', env, '--json']).stdout) as { releases: { tag: string; status: string; colour?: string }[] }).releases
}

function statusOf(env: string) {
  return (JSON.parse(berth(dir, ['status', env, '--json']).stdout) as { environments: { colours: { live: string; idle?: { colour: string; release: string; memoryBytes?: number } }; services: { container: string; state: string }[] }[] }).environments[0]
}

/**
 * Runs `run` while a keep-alive client GETs `url` every 20 ms; each answer is timed from when `run` started.
 * A request fails on a non-200 answer, a connection error or a 2 s timeout.
 */
async function underLoad<T>(url: string, run: () => Promise<T>): Promise<{ result: T; answers: { at: number; body: string }[]; failed: string[]; failures: { at: number; why: string }[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  const answers: { at: number; body: string }[] = []
  const failures: { at: number; why: string }[] = []
  const started = performance.now()
  let stop = false
  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now() - started
      const req = http.get(url, { agent, timeout: 2000 }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => {
          if (res.statusCode === 200) answers.push({ at: sent, body: body.trim() })
          else failures.push({ at: sent, why: `HTTP ${res.statusCode}` })
          resolve()
        })
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', (e) => {
        failures.push({ at: sent, why: e.message })
        resolve()
      })
    })
  const load = (async () => {
    const inflight: Promise<void>[] = []
    while (!stop) {
      inflight.push(one())
      await sleep(20)
    }
    await Promise.all(inflight)
  })()
  try {
    const result = await run()
    return { result, answers, failures, failed: failures.map((f) => f.why) }
  } finally {
    stop = true
    await load
    agent.destroy()
  }
}

describe('blue-green behind the edge', () => {
  beforeAll(() => {
    requireEngine()
    // Passed on to every berth this suite runs.
    edgeDir = mkdtempSync(join(tmpdir(), 'berth-e2e-bg-edgedir-'))
    process.env.BERTH_EDGE_DIR = edgeDir
    execFileSync('bash', [join(repoRoot, 'scripts', 'edge-image.sh')], { stdio: 'ignore' })
    cleanAll()
    root = copyFixtures()
    dir = join(root, 'bluegreen')
    setVersion('v1')
    for (const env of ['staging', 'production']) {
      const r = berth(dir, ['deploy', env])
      expect(r.code, r.stderr).toBe(0)
    }
    tags.v1 = releases('production')[0]?.tag ?? ''
    setVersion('preview-1')
    const p = berth(dir, ['deploy', 'preview'])
    expect(p.code, p.stderr).toBe(0)
  }, 240_000)

  afterAll(() => {
    cleanAll()
    rmSync(edgeDir, { recursive: true, force: true })
    if (savedEdgeDir === undefined) delete process.env.BERTH_EDGE_DIR
    else process.env.BERTH_EDGE_DIR = savedEdgeDir
  })

  it('serves the first release through the edge, from the blue colour, with stateful services shared', async () => {
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(await httpGet(`${PREVIEW}/version`)).toEqual({ status: 200, body: 'preview-1' })
    expect(await httpGet(`${STAGING}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(statusOf('production')?.colours.live).toBe('blue')
    expect(docker('ps', '--filter', 'label=com.docker.compose.project=berthbg-production', '--format', '{{.Label "com.docker.compose.service"}}')).toBe('store')
    expect(docker('ps', '--filter', 'label=com.docker.compose.project=berthbg-production-blue', '--format', '{{.Label "com.docker.compose.service"}}')).toBe('web')
    // The edge's admin API is root's alone: on no TCP port (it listens on the routes' only), and its socket refuses nobody.
    const edgePid = Number(docker('inspect', '--format', '{{.State.Pid}}', docker('ps', '--quiet', '--filter', 'label=com.docker.compose.project=berth-edge')))
    expect(tcpListenPorts(edgePid)).toEqual([19281, 19282])
    const read = asNobody(['curl', '-sS', '--max-time', '5', '--unix-socket', adminSocket(), '-H', 'Host: berth', 'http://berth/config/'])
    expect(read.code).toBe(7)
    // The edge's files are the host's: nothing of it in the app's state directory (where an environment `edge` would live).
    expect(existsSync(join(dir, '.berth', 'edge'))).toBe(false)
  })

  it('deploys into the idle colour and switches, leaving the sibling and the other blue-green environment untouched', async () => {
    const stagingBefore = containerStarts('berthbg-staging')
    const statefulBefore = containerStarts('berthbg-production')
    const previewBefore = [...containerStarts('berthbg-preview'), ...containerStarts('berthbg-preview-blue')]
    const configBefore = await edgeConfig()
    setVersion('v2')
    const r = berth(dir, ['deploy', 'production'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/switch production routes to green/)
    // The routes already held both colours: the switch renamed the live marker and Caddy never reloaded.
    expect(await edgeConfig()).toBe(configBefore)
    expect(existsSync(join(edgePaths().live, APP, 'production', 'green'))).toBe(true)
    tags.v2 = releases('production')[0]?.tag ?? ''
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v2' })
    const status = statusOf('production')
    expect(status?.colours).toMatchObject({ live: 'green', idle: { colour: 'blue', release: tags.v1, mode: 'stopped' } })
    // The old colour is stopped, not removed: an instant rollback target.
    expect(docker('ps', '--all', '--filter', 'label=com.docker.compose.project=berthbg-production-blue', '--format', '{{.State}}')).toBe('exited')
    expect(containerStarts('berthbg-staging')).toEqual(stagingBefore)
    // The stateful store did not change (only web's content did): it keeps running, untouched.
    expect(r.stderr).toMatch(/store unchanged: left running as they are/)
    expect(containerStarts('berthbg-production')).toEqual(statefulBefore)
    expect([...containerStarts('berthbg-preview'), ...containerStarts('berthbg-preview-blue')]).toEqual(previewBefore)
    expect(await httpGet(`${PREVIEW}/version`)).toEqual({ status: 200, body: 'preview-1' })
    // Logs read the stateful project and the live colour; the secret the web prints is masked.
    const logs = berth(dir, ['logs', 'production', '--tail', '20'], { BERTH_TRACE: '1' })
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toMatch(/web-1 +\| web: v2 for production token=\*\*\*\*/)
    expect(logs.stderr).toMatch(/\[trace\] docker compose --project-name berthbg-production --.* logs/)
    expect(logs.stderr).toMatch(/\[trace\] docker compose --project-name berthbg-production-green --.* logs/)
    const doctor = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as { checks: { id: string; status: string; details: string[] }[] }
    expect(doctor.checks.find((c) => c.id === 'edge')).toMatchObject({ status: 'ok' })
    expect(doctor.checks.find((c) => c.id === 'drift')).toMatchObject({ status: 'ok' })
  })

  it('rolls back to the warm colour without building anything', async () => {
    const images = () => docker('image', 'ls', '--no-trunc', '--filter', `label=berth.app=${APP}`, '--format', '{{.ID}} {{.Repository}}:{{.Tag}}').split('\n').sort()
    const before = images()
    const r = berth(dir, ['rollback', 'production'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/start the warm blue colour of production/)
    expect(r.stderr).not.toMatch(/\bbuild\b/)
    expect(images()).toEqual(before)
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(statusOf('production')?.colours).toMatchObject({ live: 'blue', idle: { colour: 'green', release: tags.v2 } })
  })

  it('addresses the stateful project with compose, and a colour with --colour', () => {
    const ps = (args: string[]) => berth(dir, ['compose', 'production', ...args, '--', 'ps', '--all', '--format', '{{.Name}} {{.State}}'])
    const stateful = ps([])
    expect(stateful.code, stateful.stderr).toBe(0)
    expect(stateful.stdout.trim()).toBe('berthbg-production-store-1 running')
    expect(ps(['--colour', 'live']).stdout.trim()).toBe('berthbg-production-blue-web-1 running')
    expect(ps(['--colour', 'idle']).stdout.trim()).toBe('berthbg-production-green-web-1 exited')
    expect(ps(['--colour', 'green']).stdout.trim()).toBe('berthbg-production-green-web-1 exited')
    const recreate = berth(dir, ['compose', 'staging', '--colour', 'live', '--', 'ps'])
    expect(recreate.code).toBe(2)
    expect(recreate.stderr).toMatch(/--colour applies to blue-green environments; staging uses recreate/)
  })

  it('never sends traffic to a failing new colour: it is removed and the live one keeps serving (exit 3)', async () => {
    setVersion('v3-broken')
    const health = join(root, 'app', 'web', 'www', 'health')
    renameSync(health, `${health}.off`)
    // Requests through the edge during the whole failed deploy must all reach the live release.
    let failures = 0
    let answered = 0
    let stop = false
    const load = (async () => {
      while (!stop) {
        const res = await httpGet(`${EDGE}/version`).catch(() => ({ status: 0, body: '' }))
        if (res.status === 200 && res.body === 'v1') answered++
        else failures++
        await sleep(50)
      }
    })()
    try {
      // In the background, so the load keeps running in this process meanwhile.
      const r = await startBerth(dir, ['deploy', 'production']).done
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toMatch(/the green colour was removed and blue kept serving/)
    } finally {
      stop = true
      await load
      renameSync(`${health}.off`, health)
    }
    expect(failures).toBe(0)
    expect(answered).toBeGreaterThan(10)
    expect(docker('ps', '--all', '--filter', 'label=com.docker.compose.project=berthbg-production-green', '--format', '{{.Names}}')).toBe('')
    expect(releases('production')[0]?.status).toBe('failed')
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
  })

  it('idle: running keeps the previous colour\'s web running and stops its worker; a rollback to it is a switch', async () => {
    const states = (colour: string) =>
      docker('ps', '--all', '--filter', `label=com.docker.compose.project=berthbg-canary-${colour}`, '--format', '{{.Label "com.docker.compose.service"}} {{.State}}').split('\n').sort()
    setVersion('canary-1')
    expect(berth(dir, ['deploy', 'canary']).code).toBe(0)
    setVersion('canary-2')
    const second = berth(dir, ['deploy', 'canary'])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toMatch(/stop worker of the blue colour of canary/)
    expect(await httpGet(`${CANARY}/version`)).toEqual({ status: 200, body: 'canary-2' })
    // Old code never consumes jobs: blue's worker is stopped; its web, which only the edge reaches, keeps running.
    expect(states('blue')).toEqual(['web running', 'worker exited'])
    expect(states('green')).toEqual(['web running', 'worker running'])
    expect(statusOf('canary')?.colours).toMatchObject({ live: 'green', idle: { colour: 'blue', mode: 'running' } })
    // What idle: running costs is shown: the memory of blue's running web, read from its cgroup.
    expect(berth(dir, ['status', 'canary']).stdout).toMatch(/blue-green: live green, idle blue \(release \S+, its routed services running, [\d.]+ (KiB|MiB)\)/)
    expect(statusOf('canary')?.colours.idle?.memoryBytes).toBeGreaterThan(0)
    const blueWebStarted = () => docker('inspect', '--format', '{{.State.StartedAt}}', 'berthbg-canary-blue-web-1')
    const webBefore = blueWebStarted()

    // Under a keep-alive client polling every 20 ms: no request fails, and traffic moves within a second.
    const polled = await underLoad(`${CANARY}/version`, () => startBerth(dir, ['rollback', 'canary']).done)
    const back = polled.result
    expect(back.code, back.stderr).toBe(0)
    expect(polled.failed, JSON.stringify(polled.failures.slice(0, 5))).toEqual([])
    // The instant path: routes switch first, then the rest of the colour (its worker) starts.
    expect(back.stderr).not.toMatch(/start the warm blue colour/)
    expect(back.stderr.indexOf('switch canary routes to blue')).toBeLessThan(back.stderr.indexOf('start the rest of the blue colour of canary'))
    const moved = polled.answers.find((a) => a.body === 'canary-1')
    expect(moved, 'canary-1 never answered during the rollback').toBeDefined()
    expect(polled.answers.filter((a) => a.at > (moved?.at ?? 0)).every((a) => a.body === 'canary-1')).toBe(true)
    console.log(`instant rollback: traffic on canary-1 ${Math.round(moved?.at ?? 0)} ms after berth started, ${polled.answers.length} requests, 0 failed`)
    expect(moved?.at).toBeLessThan(1500)
    expect(await httpGet(`${CANARY}/version`)).toEqual({ status: 200, body: 'canary-1' })
    expect(states('blue')).toEqual(['web running', 'worker running'])
    expect(states('green')).toEqual(['web running', 'worker exited'])
    // blue's web was never restarted: the rollback switched to it as it ran.
    expect(blueWebStarted()).toBe(webBefore)
    const doctor = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as { checks: { id: string; status: string; details: string[] }[] }
    expect(doctor.checks.find((c) => c.id === 'drift')).toMatchObject({ status: 'ok' })
    expect(berth(dir, ['down', 'canary']).code).toBe(0)
  }, 180_000)

  it('watch: a release that turns bad inside the window is switched back by itself (exit 3); Ctrl-C ends a watch, not the release', async () => {
    const states = (colour: string) =>
      docker('ps', '--all', '--filter', `label=com.docker.compose.project=berthbg-canary-${colour}`, '--format', '{{.Label "com.docker.compose.service"}} {{.State}}').split('\n').sort()
    setVersion('canary-w1')
    const first = berth(dir, ['deploy', 'canary'])
    expect(first.code, first.stderr).toBe(0)
    const good = releases('canary')[0]?.tag ?? ''
    // w2 serves for 12 s after it starts (its switch comes a few seconds later), then answers 404 to everything.
    const sicken = join(root, 'app', 'web', 'www', 'sicken')
    setVersion('canary-w2')
    writeFileSync(sicken, '12\n')
    let polled: Awaited<ReturnType<typeof underLoad<Awaited<ReturnType<typeof startBerth>['done']>>>>
    try {
      polled = await underLoad(`${CANARY}/version`, () => startBerth(dir, ['deploy', 'canary', '--watch', '30s']).done)
    } finally {
      rmSync(sicken)
    }
    const r = polled.result
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr).toMatch(/watch canary \S+ for 30s/)
    expect(r.stderr).toMatch(/failed inside its 30s watch window .*switched back to/)
    expect(r.stderr).toMatch(/web: turning unhealthy as www\/sicken asks/)
    // The keep-alive client lost nothing but the bad release's own answers, and those for about a second.
    expect(polled.failed.filter((why) => why !== 'HTTP 404')).toEqual([])
    const bad = polled.failures.map((f) => f.at)
    expect(bad.length).toBeGreaterThan(0)
    const span = Math.max(...bad) - Math.min(...bad)
    console.log(`watch revert: ${bad.length} requests answered 404 by the bad release over ${Math.round(span)} ms before the switch back; ${polled.answers.length} answered 200`)
    expect(span).toBeLessThan(2000)
    expect(await httpGet(`${CANARY}/version`)).toEqual({ status: 200, body: 'canary-w1' })
    const after = releases('canary') as { tag: string; status: string; reason?: string }[]
    expect(after[0]).toMatchObject({ status: 'rolled-back', reason: expect.stringMatching(/^watch: .*through the edge/) })
    expect(after.find((x) => x.status === 'active')?.tag).toBe(good)
    const audit = readFileSync(join(dir, '.berth', 'canary', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string; tag?: string })
    expect(audit.at(-1)).toMatchObject({ action: 'deploy', result: 'ROLLED_BACK', tag: after[0]?.tag })
    // The previous colour serves with its worker again; the bad colour is gone.
    const live = statusOf('canary')?.colours.live ?? ''
    expect(states(live)).toEqual(['web running', 'worker running'])
    expect(states(live === 'blue' ? 'green' : 'blue')).toEqual([''])

    // Ctrl-C during a watch: the watch ends, the release stays live and recorded so, the lock is released.
    setVersion('canary-w3')
    const run = startBerth(dir, ['deploy', 'canary', '--watch', '60s'])
    await run.waitFor(/watch canary \S+ for 60s/, 120_000)
    run.kill('SIGINT')
    const done = await run.done
    expect(done.code, done.stderr).toBe(0)
    expect(done.stderr).toMatch(/SIGINT ended the watch of canary, not the release: \S+ stays live and is recorded active/)
    expect(await httpGet(`${CANARY}/version`)).toEqual({ status: 200, body: 'canary-w3' })
    expect(releases('canary')[0]).toMatchObject({ status: 'active' })
    const old = statusOf('canary')?.colours.live === 'blue' ? 'green' : 'blue'
    expect(states(old)).toEqual(['web running', 'worker exited'])
    expect(existsSync(join(dir, '.berth', 'canary', 'lock'))).toBe(false)
    expect(berth(dir, ['down', 'canary']).code).toBe(0)
  }, 240_000)

  it('brings the edge and its routes back after an engine restart', async () => {
    const pidFile = '/var/run/docker.pid'
    expect(existsSync(pidFile)).toBe(true)
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < 120 && existsSync(`/proc/${pid}`); i++) await sleep(500)
    execFileSync('bash', [join(repoRoot, 'scripts', 'engine.sh')], { stdio: 'ignore' })
    const deadline = Date.now() + 90_000
    let edge = { status: 0, body: '' }
    let preview = { status: 0, body: '' }
    while (Date.now() < deadline) {
      edge = await httpGet(`${EDGE}/version`).catch(() => ({ status: 0, body: '' }))
      preview = await httpGet(`${PREVIEW}/version`).catch(() => ({ status: 0, body: '' }))
      if (edge.body === 'v1' && preview.body === 'preview-1') break
      await sleep(1000)
    }
    expect(edge).toEqual({ status: 200, body: 'v1' })
    expect(preview).toEqual({ status: 200, body: 'preview-1' })
    expect(statusOf('production')?.colours.live).toBe('blue')
  }, 180_000)

  it('doctor finds a live marker switched by hand', async () => {
    const dir0 = join(edgePaths().live, APP, 'production')
    expect(statusOf('production')?.colours.live).toBe('blue')
    renameSync(join(dir0, 'blue'), join(dir0, 'green'))
    try {
      // The edge follows the marker at once: the stopped green colour answers nothing.
      expect((await httpGet(`${EDGE}/version`).catch(() => ({ status: 0, body: '' }))).status).not.toBe(200)
      const doctor = berth(dir, ['doctor', '--json'])
      expect(doctor.code).toBe(1)
      const edge = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; details: string[] }[] }).checks.find((c) => c.id === 'edge')
      expect(edge?.status).toBe('fail')
      expect(edge?.details.join('\n')).toMatch(/production: the edge sends its routes to green \(live marker\), not to the recorded live colour blue/)
    } finally {
      if (existsSync(join(dir0, 'green'))) renameSync(join(dir0, 'green'), join(dir0, 'blue'))
    }
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
  })

  it('refuses a deploy or rollback over edge state it cannot make sense of (exit 2, nothing changed), and doctor marks it', async () => {
    const doctorEdge = () => {
      const r = berth(dir, ['doctor', '--json'])
      expect(r.code).toBe(1)
      return (JSON.parse(r.stdout) as { checks: { id: string; status: string; details: string[] }[] }).checks.find((c) => c.id === 'edge')?.details.join('\n')
    }
    // Both markers: the edge sends to blue, and a switch would rename the wrong one.
    const markers = join(edgePaths().live, APP, 'production')
    writeFileSync(join(markers, 'green'), '')
    try {
      expectRefused(dir, ['deploy', 'production'], 2, /the live marker of berthbg\/production is damaged: .* holds both blue and green/)
      expectRefused(dir, ['rollback', 'production'], 2, /the live marker of berthbg\/production is damaged/)
      expect(doctorEdge()).toMatch(/production: the live marker of berthbg\/production is damaged: .*rm .*green/)
    } finally {
      rmSync(join(markers, 'green'))
    }
    // The route changed by hand into one berth cannot read: a deploy would overwrite it.
    const admin = new CaddyAdmin({ socket: adminSocket() })
    const handle = `/id/berth-${APP}-production-19281/handle`
    const original = (await admin.get(handle)).value
    await admin.write({ method: 'PATCH', path: handle, body: [{ handler: 'static_response', body: 'maintenance' }] })
    try {
      expect((await httpGet(`${EDGE}/version`)).body).toBe('maintenance')
      const r = expectRefused(dir, ['deploy', 'production'], 2, /route berth-berthbg-production-19281 of server berth-19281: it is not a route berth wrote/)
      expect(r.stderr).toMatch(/-X DELETE http:\/\/berth\/id\/berth-berthbg-production-19281/)
      expect(doctorEdge()).toMatch(/route berth-berthbg-production-19281 \(listen 19281\): it is not a route berth wrote/)
    } finally {
      await admin.write({ method: 'PATCH', path: handle, body: original })
    }
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
  })

  it('takes a blue-green environment down with both colours and its routes', async () => {
    const r = berth(dir, ['down', 'preview'])
    expect(r.code, r.stderr).toBe(0)
    for (const p of ['berthbg-preview', 'berthbg-preview-blue', 'berthbg-preview-green']) {
      expect(docker('ps', '--all', '--filter', `label=com.docker.compose.project=${p}`, '--format', '{{.Names}}')).toBe('')
    }
    expect(existsSync(join(edgePaths().live, APP, 'preview'))).toBe(false)
    expect(await httpGet(`${EDGE}/version`)).toEqual({ status: 200, body: 'v1' })
  })
})
