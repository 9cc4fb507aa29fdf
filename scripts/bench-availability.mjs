#!/usr/bin/env node
// berth's availability benchmark (issue 4, "Benchmark, not a timed test"): `npm run bench:availability`.
// Counts the requests a client loses while berth deploys and rolls back, per strategy. Never asserted in tests.
//
//   BENCH_RPS=200       requests per second of the steady load (at least 100)
//   BENCH_CLIENTS=keep-alive,new-conn   which clients to run (both by default)
//   BENCH_STRATEGIES=recreate,blue-green   which strategies to run (both by default)
//   BENCH_BUDGET_S=330  skip a further client run when it would end after this many seconds
//   BENCH_DUMP=DIR      also write every request and berth's stderr lines of each step there, as JSON
//   BENCH_KEEP=1        keep the temporary directory (the engine objects are removed regardless)
//
// It copies test/fixtures to a temp dir and deploys app `berthavail` (the web and store of the fixture app,
// web taking STARTUP_DELAY=2 s before it serves) as two environments:
//   rc  strategy recreate,   web publishes 127.0.0.1:19401 itself (compose.published.yaml)
//   bg  strategy blue-green, stateful [store], edge route 19402 -> web:8080, drain 2s
// For each strategy: one deploy (warm-up, not measured), then for each client (an http.Agent with keep-alive
// and 8 sockets; a new connection per request) deploy (new version) -> rollback -> deploy (another new
// version) under an open-loop load of GET /version (2 s timeout each) on the environment's public port for
// the whole step. A request fails on a non-2xx answer, a connection error or the timeout.
// Engine hygiene: only compose projects berthavail-{rc,bg,bg-blue,bg-green}, objects labelled
// berth.app=berthavail, host ports 19400-19499; the shared edge (berth-edge) is taken down at the end only
// when no other app's route is on it. Only node: built-ins.

import { spawn } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

import { benchShell, ROOT } from './bench-common.mjs'

const { log, childEnv, sh, prepare, elapsedS, benchEdge, cleanupOnce, runBench } = benchShell('bench-availability')
const APP = 'berthavail'
const ENVS = {
  rc: { strategy: 'recreate', port: 19401 },
  bg: { strategy: 'blue-green', port: 19402 },
}
const PROJECTS = ['rc', 'bg', 'bg-blue', 'bg-green'].map((e) => `${APP}-${e}`)
const edge = benchEdge(APP)
const RPS = Math.max(100, Number.parseInt(process.env.BENCH_RPS ?? '200', 10) || 200)
const TIMEOUT_MS = 2000
const BUDGET_S = Number.parseInt(process.env.BENCH_BUDGET_S ?? '330', 10) || 330
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'keep-alive,new-conn').split(',').map((s) => s.trim()).filter((c) => c === 'keep-alive' || c === 'new-conn')
const STRATEGIES = (process.env.BENCH_STRATEGIES ?? 'recreate,blue-green').split(',').map((s) => s.trim())
const DUMP = process.env.BENCH_DUMP
const STEPS = ['deploy', 'rollback', 'deploy']
const startLoad = loadavg()[0].toFixed(1)

// ---------------------------------------------------------------------------------------------- helpers





/**
 * Runs berth in the background (so the load keeps running in this process) and timestamps every stderr
 * line as it arrives (ms precision; berth's own stamps are whole seconds). Resolves on exit.
 */
function berthAsync(cfg, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args, '--config', cfg], { cwd: dirname(cfg), env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    const lines = []
    let partial = ''
    let stderr = ''
    child.stdout.resume()
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => {
      const t = performance.now()
      stderr += chunk
      partial += chunk
      const parts = partial.split('\n')
      partial = parts.pop()
      // berth's plain reporter prefixes each line with an ISO timestamp: drop it, ours is finer.
      for (const p of parts) lines.push({ t, text: p.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '') })
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const t1 = performance.now()
      if (partial) lines.push({ t: t1, text: partial })
      if (code !== 0) reject(new Error(`berth ${args.join(' ')} exited ${code}\n${stderr.trim().split('\n').slice(-20).join('\n')}`))
      else resolve({ t0, t1, lines })
    })
  })
}

const berthArgv = (cfg, ...args) => [process.execPath, join(ROOT, 'bin', 'run.js'), ...args, '--config', cfg]

// ------------------------------------------------------------------------------------------------- load

/** What went wrong with one request, in a few words that group well. */
function errorKind(error) {
  if (error?.message === 'socket hang up') return 'socket hang up'
  return error?.code ?? error?.message ?? String(error)
}

/**
 * An open-loop load: requests are sent on schedule (RPS per second) whatever happened to earlier ones, so
 * an outage cannot slow the client down and hide itself. Each request gets TIMEOUT_MS in all, counted from
 * when it is sent (time queued for a socket included).
 */
function startLoadOn(port, agent) {
  const url = `http://127.0.0.1:${port}/version`
  const started = performance.now()
  const results = []
  let sent = 0
  let inflight = 0
  let stopped = false
  let drained
  const allDone = new Promise((r) => (drained = r))

  const fire = () => {
    const sentAt = performance.now()
    sent++
    inflight++
    let finished = false
    let timedOut = false
    let reused = false
    let assignedAt
    let localPort
    const finish = (ok, kind, body) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      inflight--
      results.push({ sentAt, assignedAt, doneAt: performance.now(), ok, kind, body, reused, localPort })
      if (stopped && inflight === 0) drained()
    }
    const req = http.get(url, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        const okStatus = res.statusCode >= 200 && res.statusCode < 300
        finish(okStatus, okStatus ? undefined : `HTTP ${res.statusCode}`, body.trim())
      })
      res.on('error', (e) => finish(false, timedOut ? 'timeout' : errorKind(e)))
    })
    req.on('socket', (socket) => {
      assignedAt = performance.now()
      reused = req.reusedSocket
      localPort = socket.localPort
      if (localPort === undefined) socket.once('connect', () => (localPort = socket.localPort))
    })
    req.on('error', (e) => finish(false, timedOut ? 'timeout' : errorKind(e)))
    const timer = setTimeout(() => {
      timedOut = true
      req.destroy(new Error('timeout'))
    }, TIMEOUT_MS)
  }

  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * RPS) / 1000)
    while (sent < due) fire()
  }, 5)

  return {
    started,
    async stop() {
      stopped = true
      clearInterval(tick)
      const stoppedAt = performance.now()
      if (inflight > 0) await allDone
      return { sent, results, stoppedAt }
    },
  }
}

const newAgent = (client) => (client === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 8 }) : false)

// ---------------------------------------------------------------------------------------------- cleanup

function cleanupEngine() {
  for (const project of PROJECTS) {
    sh(['docker', 'compose', '-p', project, 'down', '--volumes', '--remove-orphans', '--timeout', '1'], { allowFail: true, quiet: true })
  }
  const ids = sh(['docker', 'ps', '--all', '--quiet', '--filter', `label=berth.app=${APP}`], { allowFail: true, quiet: true }).stdout.split('\n').filter(Boolean)
  if (ids.length) sh(['docker', 'rm', '--force', '--volumes', ...ids], { allowFail: true })
  const vols = sh(['docker', 'volume', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Name}}\t{{.Label "com.docker.compose.project"}}'], {
    allowFail: true,
    quiet: true,
  })
    .stdout.split('\n')
    .map((l) => l.split('\t'))
    .filter(([name, project]) => name && PROJECTS.includes(project))
    .map(([name]) => name)
  if (vols.length) sh(['docker', 'volume', 'rm', ...vols], { allowFail: true })
  // By reference, not by ID: an untag never touches an image another app also uses.
  const refs = sh(['docker', 'image', 'ls', '--filter', `label=berth.app=${APP}`, '--format', '{{.Repository}}:{{.Tag}}'], { allowFail: true, quiet: true })
    .stdout.split('\n')
    .filter((ref) => ref && !ref.includes('<none>'))
  if (refs.length) sh(['docker', 'image', 'rm', ...new Set(refs)], { allowFail: true })
}

let workDir
let cfgPath
const cleanupAll = cleanupOnce(
  'berth down of both environments, then our compose projects, containers, volumes, images, and the edge if only ours',
  async () => {
    if (cfgPath) for (const env of Object.keys(ENVS)) sh(berthArgv(cfgPath, 'down', env, '--volumes', '--yes'), { allowFail: true, quiet: true })
    cleanupEngine()
    await edge.downIfOurs('end')
  },
  () => workDir,
)

// ------------------------------------------------------------------------------------------------ set-up

async function setUp() {
  prepare({ edge: true })
  log('removing leftovers of earlier runs')
  cleanupEngine()
  await edge.prepareEdge()

  workDir = mkdtempSync(join(tmpdir(), 'berthavail-'))
  cpSync(join(ROOT, 'test', 'fixtures'), workDir, { recursive: true })
  sh(['bash', join(ROOT, 'scripts', 'prepare-contexts.sh'), workDir])
  const dir = join(workDir, 'bluegreen')

  // web takes STARTUP_DELAY seconds before it serves; its own healthcheck gets a start period longer than
  // that, or Docker would mark it unhealthy (2 failed checks after 1 s) and berth would fail it at once.
  const composeFile = join(dir, 'compose.yaml')
  let compose = readFileSync(composeFile, 'utf8')
  compose = compose.replace(/( {6}SECRET_TOKEN: \$\{SECRET_TOKEN\}\n)/, '$1      STARTUP_DELAY: ${STARTUP_DELAY}\n')
  compose = compose.replace(/(\n  web:\n[\s\S]*?)start_period: 1s/, '$1start_period: 10s')
  if (!compose.includes('STARTUP_DELAY: ${STARTUP_DELAY}') || !/\n  web:\n[\s\S]*?start_period: 10s[\s\S]*\n  store:/.test(compose)) {
    throw new Error(`could not edit ${composeFile} (did the fixture change?)`)
  }
  writeFileSync(composeFile, compose)

  for (const [env, { port }] of Object.entries(ENVS)) {
    const file = join(dir, 'env', `${env}.env`)
    writeFileSync(file, `# written by scripts/bench-availability.mjs\nWEB_PORT=${port}\nAPP_ENV=${env}\nSECRET_TOKEN=bench-availability-${env}\nSTARTUP_DELAY=2\n`)
    chmodSync(file, 0o600)
  }
  cfgPath = join(dir, 'deploy.yml')
  writeFileSync(
    cfgPath,
    [
      '# written by scripts/bench-availability.mjs',
      `app: ${APP}`,
      'compose: [compose.yaml]',
      'health:',
      '  timeout: 60s',
      '  interval: 500ms',
      '  http:',
      '    - url: http://127.0.0.1:${WEB_PORT}/health',
      '      contains: ok',
      'releases:',
      '  keep: 10',
      'edge:',
      '  image: berth-edge:local',
      'environments:',
      '  rc:',
      '    env_file: env/rc.env',
      '    strategy: recreate',
      '    compose: [compose.published.yaml]',
      '  bg:',
      '    env_file: env/bg.env',
      '    strategy: blue-green',
      '    stateful: [store]',
      '    routes:',
      `      - { listen: ${ENVS.bg.port}, service: web, port: 8080 }`,
      '    drain: 2s',
      '',
    ].join('\n'),
  )
  return { dir, versionFile: join(workDir, 'app', 'web', 'www', 'version') }
}

// --------------------------------------------------------------------------------------------- measuring

const rows = []
const timelines = []
const notes = []

function kindsOf(failures) {
  const counts = new Map()
  for (const f of failures) {
    const key = f.kind
    const c = counts.get(key) ?? { n: 0, reused: 0 }
    c.n++
    if (f.reused) c.reused++
    counts.set(key, c)
  }
  return [...counts.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .map(([k, c]) => `${k} ${c.n}${c.reused ? ` (${c.reused === c.n ? 'all' : c.reused} on reused sockets)` : ''}`)
    .join(', ')
}

/** Which release answered, in order of first answer: "v1 812 → v2 1203". */
function servedBy(results) {
  const order = []
  const counts = new Map()
  for (const r of [...results].sort((a, b) => a.doneAt - b.doneAt)) {
    if (!r.ok) continue
    if (!counts.has(r.body)) order.push(r.body)
    counts.set(r.body, (counts.get(r.body) ?? 0) + 1)
  }
  return order.map((b) => `${b} ${counts.get(b)}`).join(' → ')
}

async function measuredStep({ env, client, agent, step, cfg, versionFile, version }) {
  if (step === 'deploy') writeFileSync(versionFile, `${version}\n`)
  const load = startLoadOn(ENVS[env].port, agent)
  let run
  let error
  try {
    run = await berthAsync(cfg, step === 'deploy' ? ['deploy', env] : ['rollback', env])
  } catch (e) {
    error = e
  }
  const { sent, results } = await load.stop()
  if (error) throw error
  const wallMs = run.t1 - run.t0
  const failures = results.filter((r) => !r.ok).sort((a, b) => a.sentAt - b.sentAt)
  const lat = results.filter((r) => r.ok).map((r) => r.doneAt - r.sentAt).sort((a, b) => a - b)
  const pct = (q) => (lat.length ? `${Math.round(lat[Math.min(lat.length - 1, Math.floor(q * lat.length))])} ms` : '-')
  const row = {
    strategy: ENVS[env].strategy,
    client,
    step: step === 'deploy' ? `deploy ${version}` : 'rollback',
    sent,
    failed: failures.length,
    wall: `${(wallMs / 1000).toFixed(1)} s`,
    rate: `${Math.round(sent / ((performance.now() - load.started) / 1000))}/s`,
    p99: pct(0.99),
    max: lat.length ? `${Math.round(lat.at(-1))} ms` : '-',
    kinds: failures.length ? kindsOf(failures) : '-',
  }
  rows.push(row)
  log(`  ${row.strategy} ${client} ${row.step}: sent ${sent}, failed ${failures.length}${failures.length ? ` (${row.kinds})` : ''}, ${row.wall}; served ${servedBy(results)}`)
  timelines.push({ row, run, failures, loadStarted: load.started, served: servedBy(results) })
  if (DUMP) {
    mkdirSync(DUMP, { recursive: true })
    const name = `${String(rows.length).padStart(2, '0')}-${env}-${client}-${step}.json`
    const rel = (t) => (t === undefined ? undefined : Math.round(t - run.t0))
    const requests = results.map((r) => ({ ...r, sentAt: rel(r.sentAt), assignedAt: rel(r.assignedAt), doneAt: rel(r.doneAt) })).sort((a, b) => a.sentAt - b.sentAt)
    writeFileSync(join(DUMP, name), JSON.stringify({ row, berth: run.lines.map((l) => ({ t: rel(l.t), text: l.text })), exitAt: rel(run.t1), requests }, null, 1))
  }
}

/** For a row with failures: berth's step lines with offsets, and the failures sent during each. */
function timelineText({ row, run, failures, loadStarted, served }) {
  const stepLines = run.lines.filter((l) => /^\[(start|ok|failed|warn)\]/.test(l.text) || /^starting the edge/.test(l.text))
  const marks = [{ t: run.t0, text: '(berth started)' }, ...stepLines, { t: run.t1, text: '(berth exited)' }]
  const rel = (t) => `${t - run.t0 >= 0 ? '+' : ''}${((t - run.t0) / 1000).toFixed(2)}s`
  const out = [`${row.strategy} / ${row.client} / ${row.step}: ${row.failed} failed of ${row.sent}; load from ${rel(loadStarted)}; served ${served}`]
  const byMark = new Map()
  for (const f of failures) {
    let i = -1
    for (let k = 0; k < marks.length; k++) if (marks[k].t <= f.sentAt) i = k
    if (!byMark.has(i)) byMark.set(i, [])
    byMark.get(i).push(f)
  }
  const failText = (fs) => {
    const sent = fs.map((f) => f.sentAt)
    const done = fs.map((f) => f.doneAt)
    return `   <== ${fs.length} failed: ${kindsOf(fs)}; sent ${rel(Math.min(...sent))}…${rel(Math.max(...sent))}, failed ${rel(Math.min(...done))}…${rel(Math.max(...done))}`
  }
  if (byMark.has(-1)) out.push(`  (before berth started)${failText(byMark.get(-1))}`)
  marks.forEach((m, i) => {
    out.push(`  ${rel(m.t).padStart(8)}  ${m.text}${byMark.has(i) ? `\n${' '.repeat(12)}${failText(byMark.get(i))}` : ''}`)
  })
  return out.join('\n')
}

function printTable() {
  const head = { strategy: 'strategy', client: 'client', step: 'step', sent: 'sent', failed: 'failed', wall: 'wall time', rate: 'load', p99: 'p99 ok', max: 'max ok', kinds: 'failure kinds' }
  const cols = Object.keys(head)
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => [...String(r[c])].length))]))
  const right = new Set(['sent', 'failed', 'wall', 'rate', 'p99', 'max'])
  const cell = (r, c) => {
    const s = String(r[c])
    const pad = ' '.repeat(width[c] - [...s].length)
    return right.has(c) ? pad + s : s + pad
  }
  const line = (r) => cols.map((c) => cell(r, c)).join('  ').trimEnd()
  const out = [line(head), cols.map((c) => '-'.repeat(width[c])).join('  '), ...rows.map(line)]
  const load = `load average at start ${startLoad}, at end ${loadavg()[0].toFixed(1)}`
  process.stdout.write(
    `\nberth availability benchmark — GET /version at ${RPS} req/s (open loop, ${TIMEOUT_MS / 1000} s timeout each), web STARTUP_DELAY=2 s, node ${process.version}, ${new Date().toISOString()}, ${load}\n` +
      'clients: keep-alive = http.Agent({ keepAlive: true, maxSockets: 8 }); new-conn = agent: false (a new TCP connection per request)\n\n' +
      `${out.join('\n')}\n`,
  )
  const withFailures = timelines.filter((t) => t.failures.length)
  if (withFailures.length) {
    process.stdout.write(`\nwhere the failures happened (offsets from the start of berth; each failure counted under the last berth step line before it was sent):\n\n${withFailures.map(timelineText).join('\n\n')}\n`)
  }
  if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`)
}

// ------------------------------------------------------------------------------------------------- main

async function main() {
  if (!CLIENTS.length) throw new Error('BENCH_CLIENTS names no client (keep-alive, new-conn)')
  const { versionFile } = await setUp()
  const cfg = cfgPath
  let n = 0
  const runDurations = []
  for (const env of Object.keys(ENVS).filter((e) => STRATEGIES.includes(ENVS[e].strategy))) {
    log(`${ENVS[env].strategy} (${APP}-${env}): warm-up deploy, not measured`)
    writeFileSync(versionFile, `${env}-warm\n`)
    await berthAsync(cfg, ['deploy', env])
    await sleep(500)
    for (const client of CLIENTS) {
      const estimate = runDurations.length ? Math.max(...runDurations) : 0
      if (elapsedS() + estimate > BUDGET_S) {
        notes.push(`${ENVS[env].strategy} / ${client}: skipped, it would have ended after the ${BUDGET_S} s budget (BENCH_BUDGET_S)`)
        log(`skipping ${env} ${client}: over the ${BUDGET_S} s budget`)
        continue
      }
      log(`${ENVS[env].strategy} (${APP}-${env}), ${client} client: deploy → rollback → deploy under ${RPS} req/s`)
      const agent = newAgent(client)
      const began = elapsedS()
      for (const step of STEPS) {
        await measuredStep({ env, client, agent, step, cfg, versionFile, version: step === 'deploy' ? `${env}-v${++n}` : undefined })
      }
      if (agent) agent.destroy()
      runDurations.push(elapsedS() - began)
    }
  }
  notes.push(
    'a step is one berth command, from spawn to exit; the load runs from just before it starts until it exits, then in-flight requests finish (each within its 2 s timeout)',
    'p99 ok / max ok: latency of the requests that succeeded, from when each was sent (time queued for one of the 8 keep-alive sockets included)',
    'failure kinds: "socket hang up" and ECONNRESET are both resets (the first before any answer on a socket Node thought usable); "on reused sockets" counts requests handed an idle keep-alive connection when sent (Node\'s req.reusedSocket; a request that waited in the agent\'s queue for a busy socket is not counted there)',
  )
}

await runBench(main, cleanupAll, () => {
  if (rows.length) printTable()
})
