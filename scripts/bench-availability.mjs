#!/usr/bin/env node
// berth's availability benchmark (issues 4 and 13, "Benchmark, not a timed test"): `npm run bench:availability`.
// Counts the requests a client loses while berth deploys and rolls back, per strategy; compares the latency
// through the edge with the latency straight to a container in the same moments; and times the watch
// window's revert of a release that turns bad. Never asserted in tests.
//
//   BENCH_RPS=200       requests per second of each load (at least 100)
//   BENCH_CLIENTS=keep-alive,new-conn   which clients to run (both by default)
//   BENCH_STRATEGIES=recreate,blue-green   which strategies to run (both by default)
//   BENCH_STEADY_S=10   length of the blue-green "steady" step (load, no berth command)
//   BENCH_SICKEN_S=10   the watched release answers 404 to everything this long after it starts serving
//   BENCH_WATCH=30s     the watch window of that deploy (--watch)
//   BENCH_BUDGET_S=900  skip a further client run when it would end after this many seconds
//   BENCH_DUMP=DIR      also write every request and berth's stderr lines of each step there, as JSON
//   BENCH_KEEP=1        keep the temporary directory (the engine objects are removed regardless)
//
// It copies test/fixtures to a temp dir and deploys app `berthavail` (the web and store of the fixture app,
// web taking STARTUP_DELAY=2 s before it serves) as two environments:
//   rc  strategy recreate,   web publishes 127.0.0.1:19401 itself (compose.published.yaml)
//   bg  strategy blue-green, stateful [store], edge route 19402 -> web:8080, drain 2s, idle running
// The copy's web serves with Caddy's file server (the binary of the berth-edge:local image, listen backlog
// 4096) instead of the fixture's busybox httpd, whose listen backlog of 9 overflows under load: a dropped
// SYN is sent again after 1 s, which measured the web server, not berth or the edge.
// The load runs in a process of its own (scripts/bench-load.mjs), at a higher priority: berth's runs, docker
// calls and the machine's other work cannot starve it, and each row says the rate it achieved, how late it
// sent against its schedule and its longest event-loop stall.
// For each strategy: one deploy (warm-up, not measured), then for each client (an http.Agent with keep-alive
// and 8 sockets; a new connection per request) deploy (new version) -> rollback -> deploy (another new
// version) under an open-loop load of GET /version (2 s timeout each) on the environment's public port for
// the whole step. Blue-green adds, per client: a "steady" step first (load, no berth command); in it and its
// three berth steps the same load process also sends, interleaved with the requests through the edge, as
// many straight to the recreate environment's web (127.0.0.1:19401, Docker's port publishing, no edge): the
// baseline of the edge target, with the same client and the same moments;
// and last a deploy --watch of a release that turns bad (www/sicken) inside the window, which berth must
// switch back by itself (exit 3). A request fails on a non-2xx answer, a connection error or the timeout.
// Engine hygiene: only compose projects berthavail-{rc,bg,bg-blue,bg-green}, objects labelled
// berth.app=berthavail, host ports 19400-19499; the shared edge (berth-edge) is taken down at the end only
// when no other app's route is on it. Only node: built-ins.

import { spawn } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

import { benchShell, ROOT } from './bench-common.mjs'
import { LOAD_NICE, startLoadProcess } from './bench-load.mjs'

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
const BUDGET_S = Number.parseInt(process.env.BENCH_BUDGET_S ?? '900', 10) || 900
const STEADY_S = Number.parseFloat(process.env.BENCH_STEADY_S ?? '10') || 10
const SICKEN_S = Number.parseInt(process.env.BENCH_SICKEN_S ?? '10', 10) || 10
const WATCH = process.env.BENCH_WATCH ?? '30s'
/** The edge target of issue 13: through the edge, p99 at most this much more than direct, and 0 failed. */
const EDGE_EXTRA_MS = 10
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'keep-alive,new-conn').split(',').map((s) => s.trim()).filter((c) => c === 'keep-alive' || c === 'new-conn')
const STRATEGIES = (process.env.BENCH_STRATEGIES ?? 'recreate,blue-green').split(',').map((s) => s.trim())
const DUMP = process.env.BENCH_DUMP
const STEPS = ['deploy', 'rollback', 'deploy']
const startLoad = loadavg()[0].toFixed(1)

// ---------------------------------------------------------------------------------------------- helpers

/**
 * Runs berth in the background and timestamps every stderr line as it arrives (ms precision; berth's own
 * stamps are whole seconds). Resolves on exit with one of `okCodes`, with the code.
 */
function berthAsync(cfg, args, okCodes = [0]) {
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
      if (!okCodes.includes(code)) reject(new Error(`berth ${args.join(' ')} exited ${code}\n${stderr.trim().split('\n').slice(-20).join('\n')}`))
      else resolve({ t0, t1, lines, code, stderr })
    })
  })
}

const berthArgv = (cfg, ...args) => [process.execPath, join(ROOT, 'bin', 'run.js'), ...args, '--config', cfg]

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

  // The copy's web serves with Caddy's file server instead of busybox httpd (listen backlog 9: under load
  // its accept queue overflows and the client's SYN goes again after 1 s). The binary is the edge image's,
  // so no registry is needed; busybox stays for the entrypoint and the healthcheck's wget.
  const webDir = join(workDir, 'app', 'web')
  writeFileSync(
    join(webDir, 'Dockerfile'),
    [
      '# written by scripts/bench-availability.mjs: the fixture web, served by Caddy (from the edge image) instead of busybox httpd',
      'FROM berth-edge:local',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'ENV PATH=/bin:/usr/bin',
      'COPY www/ /www/',
      'COPY entrypoint.sh /entrypoint.sh',
      'EXPOSE 8080',
      'ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]',
      '',
    ].join('\n'),
  )
  const entrypointFile = join(webDir, 'entrypoint.sh')
  const entrypoint = readFileSync(entrypointFile, 'utf8')
  const served = entrypoint.replace(/^httpd -f -p 8080 -h \/www &$/m, 'caddy file-server --listen :8080 --root /www &')
  if (served === entrypoint) throw new Error(`could not edit ${entrypointFile} (did the fixture change?)`)
  writeFileSync(entrypointFile, served)

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
  return { dir, versionFile: join(webDir, 'www', 'version'), sickenFile: join(webDir, 'www', 'sicken') }
}

// --------------------------------------------------------------------------------------------- measuring

const rows = []
const timelines = []
const notes = []
/** Blue-green steps with an edge and a direct load at the same time: the edge target's figures. */
const pairs = []
/** The watch-window reverts, one per client. */
const watches = []
/** The priorities the load processes ran at. */
const niceSeen = new Set()

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

const pct = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined)
const fmtMs = (v) => (v === undefined ? '-' : `${Math.round(v)} ms`)
const latencies = (results) => results.filter((r) => r.ok).map((r) => r.doneAt - r.sentAt).sort((a, b) => a - b)
/** Latency on the wire: from when the request got its socket (after any wait in the keep-alive agent's queue). */
const wireLatencies = (results) => results.filter((r) => r.ok && r.assignedAt !== undefined).map((r) => r.doneAt - r.assignedAt).sort((a, b) => a - b)

/**
 * One measured step: one load process sending to every target (interleaved, so they share its stalls) from
 * just before berth starts until it exits (or, with no berth command, for holdMs), then the requests in
 * flight finish.
 */
async function measuredStep({ strategy, env, client, label, berthArgs, okCodes, holdMs, targets }) {
  const load = startLoadProcess({ targets, rps: RPS, client, timeoutMs: TIMEOUT_MS })
  await load.ready
  let run
  let error
  try {
    if (berthArgs) {
      run = await berthAsync(cfgPath, berthArgs, okCodes)
    } else {
      const t0 = performance.now()
      await sleep(holdMs)
      run = { t0, t1: performance.now(), lines: [], code: undefined, stderr: '' }
    }
  } catch (e) {
    error = e
  }
  const out = await load.stop()
  if (error) throw error
  niceSeen.add(out.nice)
  const measured = out.targets.map(({ via, sent, rate, results }) => {
    const failures = results.filter((r) => !r.ok).sort((a, b) => a.sentAt - b.sentAt)
    const lat = latencies(results)
    const wire = wireLatencies(results)
    const row = {
      strategy,
      client,
      step: label,
      via,
      sent,
      failed: failures.length,
      wall: `${((run.t1 - run.t0) / 1000).toFixed(1)} s`,
      rate: `${rate.toFixed(1)}/s`,
      late: `${out.late.p99}/${out.late.max} ms`,
      stall: `${Math.round(out.loopDelay.max)} ms`,
      p50: fmtMs(pct(lat, 0.5)),
      p99: fmtMs(pct(lat, 0.99)),
      max: fmtMs(lat.at(-1)),
      wire: fmtMs(pct(wire, 0.99)),
      kinds: failures.length ? kindsOf(failures) : '-',
    }
    rows.push(row)
    const served = servedBy(results)
    log(`  ${strategy} ${client} ${label} via ${via}: sent ${sent} (${row.rate}), failed ${failures.length}${failures.length ? ` (${row.kinds})` : ''}, p99 ${row.p99}, ${row.wall}; served ${served}`)
    timelines.push({ row, run, failures, loadStarted: out.startedAt, served })
    if (DUMP) {
      mkdirSync(DUMP, { recursive: true })
      const name = `${String(rows.length).padStart(2, '0')}-${env}-${client}-${label.replace(/[^\w.-]+/g, '_')}-${via.replace(/[^\w.-]+/g, '_')}.json`
      const rel = (t) => (t === undefined ? undefined : Math.round(t - run.t0))
      const requests = results.map((r) => ({ ...r, scheduledAt: rel(r.scheduledAt), sentAt: rel(r.sentAt), doneAt: rel(r.doneAt) })).sort((x, y) => x.sentAt - y.sentAt)
      writeFileSync(join(DUMP, name), JSON.stringify({ row, berth: run.lines.map((l) => ({ t: rel(l.t), text: l.text })), exitAt: rel(run.t1), requests }, null, 1))
    }
    return { via, sent, results, failures, lat, wire }
  })
  return { run, measured }
}

/** The edge target's figures of one blue-green step: the edge load against the direct one of the same moments. */
function pairOf(client, step, { measured }) {
  const edge = measured.find((m) => m.via === 'edge')
  const direct = measured.find((m) => m.via !== 'edge')
  const side = (m) => ({ lat: m.lat, wire: m.wire, failed: m.failures.length })
  return { client, step, edge: side(edge), direct: side(direct) }
}

/**
 * The watch step's figures, from outside: the bad release's own 404 answers, any other failure, and when
 * (from the first 404 a client got) berth said it saw the failure and the previous release answered again.
 */
function watchFigures({ client, version, previous, run, measured }) {
  const { sent, results } = measured[0]
  const rs = [...results].sort((a, b) => a.sentAt - b.sentAt)
  const bad = rs.filter((r) => r.kind === 'HTTP 404')
  const other = rs.filter((r) => !r.ok && r.kind !== 'HTTP 404')
  const firstNew = rs.find((r) => r.ok && r.body === version)
  const firstBad = bad[0]
  const back = firstBad ? rs.find((r) => r.ok && r.body === previous && r.sentAt > firstBad.sentAt) : undefined
  const saw = run.lines.find((l) => /failed inside its watch window/.test(l.text))
  const reverted = run.code === 3 && /failed inside its \d+s watch window/.test(run.stderr)
  const from = (t) => (firstBad && t !== undefined ? t - firstBad.sentAt : undefined)
  return {
    client,
    version,
    previous,
    code: run.code,
    reverted,
    sent,
    okNew: rs.filter((r) => r.ok && r.body === version).length,
    okPrevious: rs.filter((r) => r.ok && r.body === previous).length,
    okOther: rs.filter((r) => r.ok && r.body !== version && r.body !== previous).length,
    bad: bad.length,
    other: other.length,
    otherKinds: other.length ? kindsOf(other) : '-',
    servedFor: firstNew && firstBad ? firstBad.sentAt - firstNew.doneAt : undefined,
    saw: from(saw?.t),
    back: from(back?.doneAt),
    lastBad: from(bad.at(-1)?.doneAt),
    exit: from(run.t1),
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

/** A plain text table: `head` names the columns, `right` the right-aligned ones. */
function table(head, list, right) {
  const cols = Object.keys(head)
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...list].map((r) => [...String(r[c])].length))]))
  const cell = (r, c) => {
    const s = String(r[c])
    const pad = ' '.repeat(width[c] - [...s].length)
    return right.has(c) ? pad + s : s + pad
  }
  const line = (r) => cols.map((c) => cell(r, c)).join('  ').trimEnd()
  return [line(head), cols.map((c) => '-'.repeat(width[c])).join('  '), ...list.map(line)].join('\n')
}

const signed = (v) => (v === undefined ? '-' : `${v >= 0 ? '+' : '−'}${Math.abs(Math.round(v))} ms`)

/** The edge target, per step and per client kind: PASS when every blue-green step of that client passes. */
function edgeTargetText() {
  const verdict = (p) => {
    const e = pct(p.edge.lat, 0.99)
    const d = pct(p.direct.lat, 0.99)
    const extra = e !== undefined && d !== undefined ? e - d : undefined
    return { extra, pass: extra !== undefined && extra <= EDGE_EXTRA_MS && p.edge.failed === 0 }
  }
  const list = []
  const perClient = []
  for (const client of CLIENTS) {
    const mine = pairs.filter((p) => p.client === client)
    if (!mine.length) continue
    for (const p of mine) {
      const v = verdict(p)
      const ew = pct(p.edge.wire, 0.99)
      const dw = pct(p.direct.wire, 0.99)
      list.push({ client, step: p.step, edge: fmtMs(pct(p.edge.lat, 0.99)), direct: fmtMs(pct(p.direct.lat, 0.99)), extra: signed(v.extra), edgeFailed: p.edge.failed, directFailed: p.direct.failed, result: v.pass ? 'PASS' : 'MISS', wire: `${fmtMs(ew)} / ${fmtMs(dw)} (${signed(ew !== undefined && dw !== undefined ? ew - dw : undefined)})` })
    }
    const all = (side) => mine.flatMap((p) => p[side].lat).sort((a, b) => a - b)
    const pass = mine.every((p) => verdict(p).pass)
    const failed = (side) => mine.reduce((n, p) => n + p[side].failed, 0)
    const allWire = (s) => mine.flatMap((p) => p[s].wire).sort((a, b) => a - b)
    const e = pct(all('edge'), 0.99)
    const d = pct(all('direct'), 0.99)
    const ew = pct(allWire('edge'), 0.99)
    const dw = pct(allWire('direct'), 0.99)
    list.push({
      client,
      step: 'all steps',
      edge: fmtMs(e),
      direct: fmtMs(d),
      extra: signed(e !== undefined && d !== undefined ? e - d : undefined),
      edgeFailed: failed('edge'),
      directFailed: failed('direct'),
      result: pass ? 'PASS' : 'MISS',
      wire: `${fmtMs(ew)} / ${fmtMs(dw)} (${signed(ew !== undefined && dw !== undefined ? ew - dw : undefined)})`,
    })
    perClient.push({ client, pass })
  }
  if (!list.length) return ''
  const head = { client: 'client', step: 'step', edge: 'edge p99', direct: 'direct p99', extra: 'edge − direct', edgeFailed: 'edge failed', directFailed: 'direct failed', result: 'result', wire: 'on the wire p99: edge / direct (−)' }
  const overall = perClient.length === 2 ? (perClient.every((c) => c.pass) ? 'PASS' : 'MISS') : `${perClient.every((c) => c.pass) ? 'PASS' : 'MISS'} (only ${perClient.map((c) => c.client).join(', ')} measured)`
  return (
    `\nthrough the edge against direct, blue-green steps (one load process sends, interleaved, ${RPS}/s through the edge on :${ENVS.bg.port} and ${RPS}/s straight to the recreate environment's web on :${ENVS.rc.port}, so both share the same client and moments):\n` +
    `target: through the edge, p99 ≤ ${EDGE_EXTRA_MS} ms more than direct, for both client kinds, and 0 failed — ${overall}` +
    `${perClient.length ? ` (${perClient.map((c) => `${c.client} ${c.pass ? 'PASS' : 'MISS'}`).join(', ')}; a client kind passes when each of its steps does)` : ''}\n\n` +
    `${table(head, list, new Set(['edge', 'direct', 'extra', 'edgeFailed', 'directFailed']))}\n`
  )
}

function watchText() {
  if (!watches.length) return ''
  const head = {
    client: 'client',
    result: 'revert',
    sent: 'sent',
    okNew: '200 new',
    okPrevious: '200 previous',
    bad: '404 (bad release)',
    other: 'other failed',
    servedFor: 'new served for',
    saw: 'berth saw it',
    back: 'previous again',
    lastBad: 'last 404',
    exit: 'berth exit',
  }
  const list = watches.map((w) => ({
    ...w,
    result: w.reverted ? `yes, exit ${w.code}` : `NO (exit ${w.code})`,
    servedFor: w.servedFor === undefined ? '-' : `${(w.servedFor / 1000).toFixed(1)} s`,
    saw: signed(w.saw),
    back: signed(w.back),
    lastBad: signed(w.lastBad),
    exit: w.exit === undefined ? '-' : `+${(w.exit / 1000).toFixed(1)} s`,
    other: w.other ? `${w.other} (${w.otherKinds})` : 0,
  }))
  return (
    `\nwatch-window revert (blue-green, through the edge): deploy --watch ${WATCH} of a release whose web answers 404 to everything ${SICKEN_S} s after it starts serving (www/sicken); ` +
    'offsets from the first 404 a client got; "previous again": the first answer of the previous release sent after it\n\n' +
    `${table(head, list, new Set(['sent', 'okNew', 'okPrevious', 'bad', 'servedFor', 'saw', 'back', 'lastBad', 'exit']))}\n`
  )
}

function printTable() {
  const head = { strategy: 'strategy', client: 'client', step: 'step', via: 'via', sent: 'sent', failed: 'failed', wall: 'wall time', rate: 'load', late: 'late p99/max', stall: 'stall', p50: 'p50 ok', p99: 'p99 ok', max: 'max ok', wire: 'wire p99', kinds: 'failure kinds' }
  const load = `load average at start ${startLoad}, at end ${loadavg()[0].toFixed(1)}`
  process.stdout.write(
    `\nberth availability benchmark — GET /version at ${RPS} req/s per target (open loop, ${TIMEOUT_MS / 1000} s timeout each, the load in a process of its own), web STARTUP_DELAY=2 s served by Caddy, node ${process.version}, ${new Date().toISOString()}, ${load}\n` +
      'clients: keep-alive = http.Agent({ keepAlive: true, maxSockets: 8 }); new-conn = agent: false (a new TCP connection per request)\n\n' +
      `${table(head, rows, new Set(['sent', 'failed', 'wall', 'rate', 'late', 'stall', 'p50', 'p99', 'max', 'wire']))}\n`,
  )
  process.stdout.write(edgeTargetText())
  process.stdout.write(watchText())
  const withFailures = timelines.filter((t) => t.failures.length)
  if (withFailures.length) {
    process.stdout.write(`\nwhere the failures happened (offsets from the start of berth; each failure counted under the last berth step line before it was sent):\n\n${withFailures.map(timelineText).join('\n\n')}\n`)
  }
  if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`)
}

// ------------------------------------------------------------------------------------------------- main

async function main() {
  if (!CLIENTS.length) throw new Error('BENCH_CLIENTS names no client (keep-alive, new-conn)')
  const { versionFile, sickenFile } = await setUp()
  const envs = Object.keys(ENVS).filter((e) => STRATEGIES.includes(ENVS[e].strategy))
  let n = 0
  const runDurations = []
  // The blue-green releases the edge serves: live, and the one a rollback goes back to.
  let bg = { live: undefined, previous: undefined }
  const deployed = (version) => (bg = { live: version, previous: bg.live })

  // rc is the recreate strategy's subject and the direct baseline of the blue-green steps: deployed either way.
  log(`recreate (${APP}-rc): warm-up deploy, not measured${envs.includes('rc') ? '' : ' (the direct baseline of the blue-green steps)'}`)
  writeFileSync(versionFile, 'rc-warm\n')
  await berthAsync(cfgPath, ['deploy', 'rc'])
  for (const env of envs) {
    const strategy = ENVS[env].strategy
    if (env === 'bg') {
      log(`blue-green (${APP}-bg): warm-up deploy, not measured`)
      writeFileSync(versionFile, 'bg-warm\n')
      await berthAsync(cfgPath, ['deploy', env])
      deployed('bg-warm')
    }
    await sleep(500)
    for (const client of CLIENTS) {
      const estimate = runDurations.length ? Math.max(...runDurations) : 0
      if (elapsedS() + estimate > BUDGET_S) {
        notes.push(`${strategy} / ${client}: skipped, it would have ended after the ${BUDGET_S} s budget (BENCH_BUDGET_S)`)
        log(`skipping ${env} ${client}: over the ${BUDGET_S} s budget`)
        continue
      }
      const began = elapsedS()
      const targets = env === 'bg' ? [{ via: 'edge', port: ENVS.bg.port }, { via: 'direct (rc)', port: ENVS.rc.port }] : [{ via: 'direct', port: ENVS.rc.port }]
      log(`${strategy} (${APP}-${env}), ${client} client: ${env === 'bg' ? 'steady → ' : ''}deploy → rollback → deploy${env === 'bg' ? ' → deploy --watch' : ''} under ${RPS} req/s per target (${targets.map((t) => `${t.via} :${t.port}`).join(', ')})`)
      if (env === 'bg') {
        const steady = await measuredStep({ strategy, env, client, label: 'steady', holdMs: STEADY_S * 1000, targets })
        pairs.push(pairOf(client, 'steady', steady))
      }
      for (const step of STEPS) {
        const version = step === 'deploy' ? `${env}-v${++n}` : undefined
        if (version) writeFileSync(versionFile, `${version}\n`)
        const label = version ? `deploy ${version}` : 'rollback'
        const result = await measuredStep({ strategy, env, client, label, berthArgs: version ? ['deploy', env] : ['rollback', env], targets })
        if (env === 'bg') {
          pairs.push(pairOf(client, label, result))
          if (version) deployed(version)
          else bg = { live: bg.previous, previous: bg.live }
        }
      }
      if (env === 'bg') {
        const version = `${env}-w${++n}`
        writeFileSync(versionFile, `${version}\n`)
        writeFileSync(sickenFile, `${SICKEN_S}\n`)
        let result
        try {
          result = await measuredStep({ strategy, env, client, label: `deploy ${version} --watch ${WATCH}`, berthArgs: ['deploy', env, '--watch', WATCH], okCodes: [0, 3], targets: [targets[0]] })
        } finally {
          rmSync(sickenFile, { force: true })
        }
        const figures = watchFigures({ client, version, previous: bg.live, ...result })
        watches.push(figures)
        if (!figures.reverted) deployed(version)
      }
      runDurations.push(elapsedS() - began)
    }
  }
  notes.push(
    'a step is one berth command, from spawn to exit ("steady": none, for BENCH_STEADY_S); the load runs from just before it starts until it exits, then in-flight requests finish (each within its 2 s timeout)',
    'via: edge = the blue-green route on the shared Caddy edge; direct = the recreate environment\'s web on its published port (Docker\'s port publishing, no edge). In blue-green steps one load process sends to both, interleaved, so the client, its stalls and the machine\'s load are the same for each',
    `load: requests sent per second while the step ran; late p99/max: how long after its scheduled time a request was sent; stall: the longest event-loop delay of the load process (a starved client shows here, not as server latency). The load processes ran at nice ${[...niceSeen].join('/')} (${LOAD_NICE} when permitted: they stand for clients on other machines, so the machine's other work delays the servers, not them)`,
    'p50/p99/max ok: latency of the requests that succeeded, from when each was sent (time queued for one of the 8 keep-alive sockets included; the target is on this one); wire p99: from when the request got its socket (a new connection: at once, connect included), which leaves out that queue',
    'failure kinds: "socket hang up" and ECONNRESET are both resets (the first before any answer on a socket Node thought usable); "on reused sockets" counts requests handed an idle keep-alive connection when sent (Node\'s req.reusedSocket)',
    'the web of this benchmark serves with Caddy\'s file server (listen backlog 4096); the fixture\'s busybox httpd has a backlog of 9, whose overflow under load costs a SYN retransmit (1 s) and made the 1.07–1.14 s new-connection p99 measured before (issue 13)',
  )
}

await runBench(main, cleanupAll, () => {
  if (rows.length) printTable()
})
