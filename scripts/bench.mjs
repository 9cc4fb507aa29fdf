#!/usr/bin/env node
// berth's benchmark suite (issue 5): `npm run bench`. Measures berth against what it wraps, as ratios taken
// within one run (these machines are shared and noisy), and prints one table. Never asserted in tests. A row's
// ratio is the median of the ratios of its paired runs (each run of berth against the baseline run next to it);
// the ratio of the two medians is printed beside it ("of medians").
//
//   BENCH_RUNS=5     runs per figure (median and min–max are over these)
//   BENCH_START_RUNS=21   runs of the start-up figures (--version, --help, status), at least BENCH_RUNS: they
//                         last a tenth of a second, so a few more runs steady their medians at little cost
//   BENCH_KEEP=1     keep the temporary directory (the engine objects are removed regardless)
//   BENCH_ONLY=instant-rollback   only figure 3b (the rollback to the idle colour, timed from outside)
//   BENCH_ONLY=previews   only figure 6: 200 preview environments of the example app, deployed and pruned
//                         (BENCH_PREVIEWS=N, BENCH_PREVIEWS_PARALLEL=P, BENCH_PREVIEWS_APP=example|one,
//                         BENCH_PREVIEWS_HEALTH_INTERVAL, BENCH_PREVIEWS_MAX_LOAD; scripts/bench-previews.mjs)
//   BENCH_ONLY=switches   only the rows of issue 15: start-up, status, deploy --tag and recreate rollback --to,
//                         with the phases of one traced deploy and rollback
//
// It deploys real environments of test/fixtures/app (copied to a temp dir, app `berthbench`, ports
// 19001/19002) and of a one-service app (`berthbenchscale` with up to 30 environments and `berthbenchone`
// with one, no published port) and a blue-green environment of test/fixtures/bluegreen (`berthbenchbg`,
// edge route 19003, drain 0s), and removes every compose project, container, volume
// and image of those apps (by project name and by label berth.app) at the start (leftovers) and at the end;
// the shared edge goes only when no other app's route is on it. The remote figures (bench-remote.mjs) deploy
// `berthbenchremote` to the second host (scripts/second-host.sh) and clean it up there the same way.
// Only child_process: no dependency beyond Node itself.

import { spawn } from 'node:child_process'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { benchShell, benchTable, berthArgv, fmtMs, networkRoom, ROOT, stats, TIME_BIN, traceCount } from './bench-common.mjs'
import { previewsBench, PREVIEW_APPS } from './bench-previews.mjs'
import { remoteBench } from './bench-remote.mjs'

const { log, childEnv, sh, timed, cleanupApps, prepare, benchEdge, cleanupOnce, runBench } = benchShell('bench')
const ONLY = process.env.BENCH_ONLY
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? '5', 10) || 5)
const START_RUNS = Math.max(RUNS, Number.parseInt(process.env.BENCH_START_RUNS ?? '21', 10) || 21)
const APP = 'berthbench'
const SCALE_APP = 'berthbenchscale'
const ONE_APP = 'berthbenchone'
const BG_APP = 'berthbenchbg'
const APPS = [APP, SCALE_APP, ONE_APP, BG_APP, ...PREVIEW_APPS]
const BG_LISTEN = 19003
const edge = benchEdge(BG_APP)
const PORTS = { staging: 19001, production: 19002 }
const SCALE_STEPS = [1, 10, 30]
const SCALE_PARALLEL = 3

// ---------------------------------------------------------------------------------------------- helpers

function shAsync(argv, { cwd = ROOT, env = childEnv() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stdout.resume()
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`\`${argv.join(' ')}\` exited ${code}\n${stderr.trim().split('\n').slice(-25).join('\n')}`))
    })
  })
}

/** Several commands one after the other, timed as one. */
function timedSeq(argvs) {
  const t0 = process.hrtime.bigint()
  for (const argv of argvs) sh(argv)
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6 }
}

const fmtMb = (mb) => (mb === undefined ? '-' : `${mb.toFixed(0)} MB`)

/**
 * Where one traced switch's time went (BERTH_TRACE=1: `[trace]` when each docker command started, `[phase]`
 * when each step started and ended, in ms since berth started): start-up until the first command, then each
 * step and the gaps between them (the lock, preparing the release, the record, retention, exit), against the
 * raw compose switch's median.
 */
function phases(stderr, totalMs) {
  const at = (line) => Number(/\(\+(\d+) ms\)$/.exec(line)?.[1])
  const lines = stderr.split('\n')
  const first = lines.find((l) => l.startsWith('[trace] '))
  const out = [{ phase: 'start-up (to the first docker call)', ms: first ? at(first) : undefined }]
  const traced = (from, to) => lines.filter((l) => l.startsWith('[trace] ') && at(l) >= from && at(l) < to)
  const commands = (from, to) => traced(from, to).length
  // `docker ps`, `docker compose config`, `git describe`: the program and its verb, without the flags.
  const verb = (line) => {
    const words = line.slice('[trace] '.length).replace(/ \(\+\d+ ms\)$/, '').split(' ')
    const [program, ...rest] = words
    const named = [program]
    for (let i = 0; i < rest.length && named.length < 3; i++) {
      if (rest[i].startsWith('-')) {
        if (rest[i + 1] && !rest[i + 1].startsWith('-')) i++
        continue
      }
      named.push(rest[i])
      if (rest[i] !== 'compose') break
    }
    return named.join(' ')
  }
  const between = (from, to) => `between steps: ${[...new Set(traced(from, to).map(verb))].join(', ') || 'no docker call'}`
  let last = first ? at(first) : 0
  const starts = new Map()
  for (const line of lines) {
    const m = /^\[phase\] (start|end) (.*) \(\+\d+ ms\)$/.exec(line)
    if (!m) continue
    const [, edge, title] = m
    if (edge === 'start') {
      if (at(line) - last >= 1) out.push({ phase: between(last, at(line)), ms: at(line) - last, commands: commands(last, at(line)) })
      starts.set(title, at(line))
    } else if (starts.has(title)) {
      out.push({ phase: title, ms: at(line) - starts.get(title), commands: commands(starts.get(title), at(line)) })
      last = at(line)
    }
  }
  out.push({ phase: 'after the last step (record, retention, exit)', ms: totalMs - last, commands: commands(last, Infinity) })
  return out
}

function phaseNotes(figure, trace, rawMedianMs) {
  if (!trace) return
  const rows = phases(trace.stderr, trace.ms)
  const body = rows.map((r) => `${r.phase} ${r.ms === undefined ? '?' : fmtMs(r.ms)}${r.commands ? ` (${r.commands} docker call${r.commands === 1 ? '' : 's'})` : ''}`)
  notes.push(`phases of the last traced ${figure}, ${fmtMs(trace.ms)} in all (raw compose median ${fmtMs(rawMedianMs)}): ${body.join('; ')}`)
}

// ---------------------------------------------------------------------------------------------- table

const { rows, notes, ratioRow, skippedRow, printTable } = benchTable({ runs: RUNS })

// ---------------------------------------------------------------------------------------------- cleanup

const cleanupEngine = () => cleanupApps(APPS)

let workDir
let bgConfig
const remote = remoteBench({ shell: { log, childEnv, sh, timed, cleanupApps }, table: { rows, notes, ratioRow, skippedRow }, runs: RUNS, workDir: () => workDir })
const cleanupAll = cleanupOnce(
  'our compose projects, containers, volumes and images, and the edge if only ours',
  async () => {
    // berth down takes the blue-green environment's routes and live marker off the edge too.
    if (bgConfig) sh(berthArgv('down', 'production', '--volumes', '--yes', '--config', bgConfig), { allowFail: true, quiet: true })
    cleanupEngine()
    await edge.downIfOurs('end')
    remote.cleanup()
  },
  () => workDir,
)

// ------------------------------------------------------------------------------------------------ set-up

/** Figures 2–3b create three networks: staging's, production's and the blue-green environment's stateful one (its colours join it). */
const NETWORKS_NEEDED = 3

function ensureTimeBin() {
  if (existsSync(TIME_BIN)) return true
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (!root) {
    notes.push(`memory: ${TIME_BIN} is missing and installing it needs root (apt-get install -y time): peak RSS skipped`)
    return false
  }
  log(`installing ${TIME_BIN} (apt-get install -y time)`)
  const env = childEnv({ DEBIAN_FRONTEND: 'noninteractive' })
  let r = sh(['apt-get', 'install', '-y', '-qq', 'time'], { allowFail: true, env })
  if (r.code !== 0) {
    sh(['apt-get', 'update', '-qq'], { allowFail: true, env })
    r = sh(['apt-get', 'install', '-y', '-qq', 'time'], { allowFail: true, env })
  }
  if (existsSync(TIME_BIN)) return true
  notes.push(`memory: could not install ${TIME_BIN}: peak RSS skipped`)
  return false
}

async function setUp() {
  prepare({ edge: true })
  log('removing leftovers of earlier runs')
  cleanupEngine()
  await edge.prepareEdge()

  workDir = mkdtempSync(join(tmpdir(), 'berthbench-'))
  const app = join(workDir, 'app')
  cpSync(join(ROOT, 'test', 'fixtures', 'app'), app, { recursive: true })
  const deployYml = join(app, 'deploy.yml')
  writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace(/^app: .*$/m, `app: ${APP}`))
  for (const [env, port] of Object.entries(PORTS)) {
    const file = join(app, 'env', `${env}.env`)
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^WEB_PORT=.*$/m, `WEB_PORT=${port}`))
    chmodSync(file, 0o600)
  }
  sh(['bash', join(ROOT, 'scripts', 'prepare-contexts.sh'), app])

  // The blue-green fixture builds ../app/web and ../app/store: beside the copy above, it uses them.
  const bg = join(workDir, 'bluegreen')
  cpSync(join(ROOT, 'test', 'fixtures', 'bluegreen', 'compose.yaml'), join(bg, 'compose.yaml'))
  mkdirSync(join(bg, 'env'), { recursive: true })
  writeFileSync(join(bg, 'env', 'production.env'), `WEB_PORT=${BG_LISTEN}\nAPP_ENV=production\nSECRET_TOKEN=bench-bg-token\n`, { mode: 0o600 })
  bgConfig = join(bg, 'deploy.yml')
  writeFileSync(
    bgConfig,
    [
      `app: ${BG_APP}`,
      'compose: [compose.yaml]',
      'health:',
      '  timeout: 30s',
      '  interval: 1s',
      '  http:',
      '    - url: http://127.0.0.1:${WEB_PORT}/health',
      '      contains: ok',
      'releases:',
      '  keep: 3',
      'edge:',
      '  image: berth-edge:local',
      'environments:',
      '  production:',
      '    env_file: env/production.env',
      '    strategy: blue-green',
      '    stateful: [store]',
      `    routes: [{ listen: ${BG_LISTEN}, service: web, port: 8080 }]`,
      '    drain: 0s',
      '',
    ].join('\n'),
  )
  return app
}

// --------------------------------------------------------------------------------------------- figures

/**
 * Figure 3b: `berth rollback production --to <tag>` when the idle colour holds that release (idle: running,
 * the default; drain 0s). Two releases are deployed, then each timed rollback names the other one, so every
 * run is the instant path: one read of the idle colour, its probes, the switch, then its workers. Measured from
 * outside, as an operator's users see it: a keep-alive client polls the public port every 20 ms, and the
 * figure is the time from berth's spawn to the first answer of the target release. A rollback that started
 * the colour instead of switching to it, or a failed poll, fails the benchmark.
 */
async function instantRollback(app) {
  const bberth = (...args) => berthArgv(...args, '--config', bgConfig)
  const tags = []
  const versions = ['bench-bg-A', 'bench-bg-B']
  for (const version of versions) {
    writeFileSync(join(app, 'web', 'www', 'version'), `${version}\n`)
    log(`figure 3b: deploying ${version} to the blue-green environment`)
    sh(bberth('deploy', 'production'))
    tags.push(JSON.parse(sh(bberth('releases', 'production', '--json')).stdout).releases.find((r) => r.status === 'active').tag)
  }
  let live = 1
  const toTraffic = []
  const whole = []
  for (let i = 0; i < RUNS; i++) {
    const target = 1 - live
    const r = await pollWhile(`http://127.0.0.1:${BG_LISTEN}/version`, versions[target], bberth('rollback', 'production', '--to', tags[target]))
    if (r.code !== 0) throw new Error(`rollback to ${tags[target]} exited ${r.code}:\n${r.stderr.split('\n').slice(-15).join('\n')}`)
    if (/start the warm (blue|green) colour/.test(r.stderr)) throw new Error(`rollback to ${tags[target]} started the colour instead of switching:\n${r.stderr.split('\n').slice(-15).join('\n')}`)
    if (r.failed.length) throw new Error(`rollback to ${tags[target]}: ${r.failed.length} polls failed (${r.failed.slice(0, 3).join(', ')})`)
    if (r.movedAt === undefined) throw new Error(`rollback to ${tags[target]}: ${versions[target]} never answered`)
    toTraffic.push(r.movedAt)
    whole.push(r.exitAt)
    live = target
    log(`  instant rollback run ${i + 1}/${RUNS}: traffic on ${versions[target]} at +${fmtMs(r.movedAt)}, berth exited at +${fmtMs(r.exitAt)}, ${r.polls} polls, 0 failed`)
  }
  const t = stats(toTraffic)
  rows.push({ figure: 'rollback to the idle colour: traffic on it (median)', median: fmtMs(t.median), range: `${fmtMs(t.min)}–${fmtMs(t.max)}`, baseline: '-', ratio: '-', target: '≤ 0.5 s', result: t.median <= 500 ? 'PASS' : 'MISS' })
  rows.push({ figure: 'rollback to the idle colour: traffic on it (max)', median: fmtMs(t.max), range: `${fmtMs(t.min)}–${fmtMs(t.max)}`, baseline: '-', ratio: '-', target: '≤ 1 s', result: t.max <= 1000 ? 'PASS' : 'MISS' })
  // One more, traced: where the time before the switch goes (BERTH_TRACE=1 phases and engine calls).
  const traced = timed(bberth('rollback', 'production', '--to', tags[1 - live]), { env: childEnv({ BERTH_TRACE: '1' }) })
  phaseNotes('instant rollback', traced, undefined)
  const w = stats(whole)
  notes.push(`rollback to the idle colour: berth exits at a median +${fmtMs(w.median)} (${fmtMs(w.min)}–${fmtMs(w.max)}), after starting the colour's workers and stopping the old ones; traffic moved at the switch, before`)
}

/** Runs argv while a keep-alive client GETs url every 20 ms; times (from the spawn) the first answer equal to `want`. */
function pollWhile(url, want, argv) {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    const t0 = performance.now()
    const failed = []
    let movedAt
    let polls = 0
    let stderr = ''
    const poll = () => {
      const sent = performance.now() - t0
      polls++
      const req = http.get(url, { agent, timeout: 2000 }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (body += d))
        res.on('end', () => {
          if (res.statusCode !== 200) failed.push(`HTTP ${res.statusCode}`)
          else if (body.trim() === want && (movedAt === undefined || sent < movedAt)) movedAt = sent
        })
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', (e) => failed.push(e.message))
    }
    const timer = setInterval(poll, 20)
    const child = spawn(argv[0], argv.slice(1), { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const exitAt = performance.now() - t0
      setTimeout(() => {
        clearInterval(timer)
        agent.destroy()
        resolve({ code, stderr, failed, movedAt, exitAt, polls })
      }, 200)
    })
  })
}

async function main() {
  const app = await setUp()
  if (ONLY === 'instant-rollback') return instantRollback(app)
  const previews = () => previewsBench({ shell: { log, sh, timed, childEnv }, table: { rows, notes, ratioRow }, workDir, runs: RUNS })
  if (ONLY === 'previews') return previews()
  const cfg = join(app, 'deploy.yml')
  const berth = (...args) => berthArgv(...args, '--config', cfg)
  const haveTime = ensureTimeBin()
  const mem = { deploy: [], status: [], raw: [] }
  const startup = () => {
    // 1. Start-up ------------------------------------------------------------------------------------------
    log(`figure 1: start-up (${START_RUNS} runs)`)
    const start = { node: [], version: [], help: [], status: [], base: [] }
    const startOps = [
      ['node', () => timed([process.execPath, '-e', ''])],
      ['version', () => timed(berthArgv('--version'))],
      ['help', () => timed(berthArgv('--help'))],
      ['status', () => timed(berth('status'))],
      ['base', () => timedSeq([['docker', 'compose', 'ls'], ['docker', 'ps']])],
    ]
    for (const [, op] of startOps) op() // warm-up: page cache, engine
    for (let i = 0; i < START_RUNS; i++) for (const [key, op] of startOps) start[key].push(op().ms)
    // Targets of issue 15.
    ratioRow('berth --version', start.version, "node -e ''", start.node, 2.0)
    ratioRow('berth --help', start.help, "node -e ''", start.node)
    ratioRow('berth status (2 envs)', start.status, 'compose ls + ps', start.base, 2.5)
    ratioRow('berth status (2 envs) vs --version', start.status, 'berth --version', start.version, 1.3)
    if (START_RUNS !== RUNS) notes.push(`start-up figures (--version, --help, status): ${START_RUNS} runs each, interleaved (BENCH_START_RUNS)`)
  }

  // Figures 2, 3 and 3b create networks (staging's, production's, the blue-green environment's): on an engine
  // whose address pools are full they cannot run, and the rest is still measured.
  const room = await networkRoom()
  if (room < NETWORKS_NEEDED) {
    notes.push(
      `deploy, rollback and warm-rollback figures skipped: the engine's address pools have room for ${room} more network(s) and these figures need ${NETWORKS_NEEDED} (berth doctor shows the count; widen default-address-pools in /etc/docker/daemon.json). Start-up figures measured without deployed environments.`,
    )
    startup()
    for (const figure of ['deploy staging --tag (A↔B)', 'rollback staging --to (recreate)', 'rollback to the idle colour: traffic on it (median)', 'rollback to the idle colour: traffic on it (max)']) skippedRow(figure, 'address pools full')
    if (ONLY === 'switches') return
  } else {
    // Two releases of staging with different web content, and production running the second one.
    log('building release A of staging')
    writeFileSync(join(app, 'web', 'www', 'version'), 'bench-A\n')
    sh(berth('deploy', 'staging'))
    log('building release B of staging')
    writeFileSync(join(app, 'web', 'www', 'version'), 'bench-B\n')
    sh(berth('deploy', 'staging'))
    const releases = JSON.parse(sh(berth('releases', 'staging', '--json')).stdout).releases
    const B = releases.find((r) => r.status === 'active')
    const A = releases.find((r) => r.status === 'previous')
    if (!A || !B) throw new Error(`expected an active and a previous release of staging, got ${releases.map((r) => `${r.tag}:${r.status}`).join(' ')}`)
    log(`releases: A=${A.tag} B=${B.tag}; deploying B to production`)
    sh(berth('deploy', 'production', '--tag', B.tag, '--yes'))

    // The raw compose switch applies the very file berth recorded for each release. berth rewrites and sweeps
    // those files on every apply, so the baseline keeps its own copies.
    const rawDir = join(workDir, 'raw')
    mkdirSync(rawDir)
    const rawFile = {}
    for (const r of [A, B]) {
      rawFile[r.tag] = join(rawDir, `${r.tag}.compose.yaml`)
      copyFileSync(join(app, '.berth', 'staging', 'releases', r.configFile), rawFile[r.tag])
    }
    const project = `${APP}-staging`
    const envFile = join(app, 'env', 'staging.env')
    const rawSwitch = (tag) => ['docker', 'compose', '-p', project, '-f', rawFile[tag], '--env-file', envFile, 'up', '-d', '--wait']

    startup()

    // 2 and 3. Deploy and rollback switches ---------------------------------------------------------------
    // Every timed switch really changes the running release: `recorded` is what berth's state says is
    // active, `running` what the containers run. The two orders alternate so each side switches both ways.
    let recorded = B.tag
    let running = B.tag
    const other = (tag) => (tag === A.tag ? B.tag : A.tag)
    const procs = { deploy: new Set(), rollback: new Set() }
    const switchFigure = (name, berthOp) => {
      const berthMs = []
      const rawMs = []
      let lastTrace
      for (let i = 0; i < RUNS; i++) {
        for (const side of i % 2 === 0 ? ['berth', 'raw'] : ['raw', 'berth']) {
          if (side === 'raw') {
            const target = other(running)
            const r = timed(rawSwitch(target), { memory: haveTime })
            rawMs.push(r.ms)
            if (name === 'deploy' && r.rssMb !== undefined) mem.raw.push(r.rssMb)
            running = target
          } else {
            const target = other(recorded)
            if (target === running) {
              sh(rawSwitch(recorded)) // untimed: bring the containers back to what berth recorded
              running = recorded
            }
            const r = timed(berthOp(target), { memory: haveTime, env: childEnv({ BERTH_TRACE: '1' }) })
            berthMs.push(r.ms)
            lastTrace = { stderr: r.stderr, ms: r.ms }
            procs[name].add(traceCount(r.stderr))
            if (name === 'deploy' && r.rssMb !== undefined) mem.deploy.push(r.rssMb)
            recorded = running = target
          }
        }
        log(`  ${name} run ${i + 1}/${RUNS}: berth ${fmtMs(berthMs.at(-1))}, raw compose ${fmtMs(rawMs.at(-1))}`)
      }
      return { berthMs, rawMs, lastTrace }
    }

    log(`figure 2: deploy --tag switches A↔B (${RUNS} runs each side)`)
    const dep = switchFigure('deploy', (tag) => berth('deploy', 'staging', '--tag', tag))
    ratioRow('deploy staging --tag (A↔B)', dep.berthMs, 'compose up -d --wait', dep.rawMs, 1.1)

    log(`figure 3: rollback switches (${RUNS} runs each side)`)
    if (running !== recorded) {
      sh(rawSwitch(recorded))
      running = recorded
    }
    // A plain `berth rollback staging` cannot be repeated (the release rolled back from becomes
    // `rolled-back`, not `previous`), so each rollback names the other release: the same recreate path.
    const rb = switchFigure('rollback', (tag) => berth('rollback', 'staging', '--to', tag))
    ratioRow('rollback staging --to (recreate)', rb.berthMs, 'compose up -d --wait', rb.rawMs, 1.1)
    phaseNotes('deploy staging --tag', dep.lastTrace, stats(dep.rawMs).median)
    phaseNotes('rollback staging --to', rb.lastTrace, stats(rb.rawMs).median)
    if (ONLY === 'switches') return
    await instantRollback(app)
    notes.push(`docker/compose processes berth starts per deploy --tag: ${[...procs.deploy].join(', ')}; per rollback: ${[...procs.rollback].join(', ')} (BERTH_TRACE)`)

    // 5 (status half). Peak RSS of berth status ------------------------------------------------------------
    if (haveTime) {
      for (let i = 0; i < RUNS; i++) mem.status.push(timed(berth('status'), { memory: true }).rssMb)
    }

  }

  // Remote figures (bench-remote.mjs): deploy --tag and status on the second host ------------------------
  await remote.figures()

  // 4. Scale ---------------------------------------------------------------------------------------------
  log('figure 4: scale — one-service app with 1, 10 and 30 environments')
  // Two copies of a one-service app: `berthbenchscale` grows to 1, 10 and 30 environments, and
  // `berthbenchone` keeps one. At every step their status runs alternate, so the 1-environment time the
  // ratio divides by is taken on the same host, under the same load, as the N-environment time.
  const scaleDir = (name, appName) => {
    const dir = join(workDir, name)
    mkdirSync(join(dir, 'env'), { recursive: true })
    cpSync(join(app, 'web'), join(dir, 'web'), { recursive: true })
    writeFileSync(
      join(dir, 'compose.yaml'),
      [
        'services:',
        '  web:',
        '    build: ./web',
        // The engine's default address pools hold about 30 networks: a project network per environment
        // would run out before 30 environments (and starve other stacks on the host).
        '    network_mode: bridge',
        '    environment:',
        '      APP_ENV: ${APP_ENV}',
        '    healthcheck:',
        '      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/health"]',
        '      interval: 1s',
        '      timeout: 2s',
        '      retries: 2',
        '      start_period: 1s',
        '',
      ].join('\n'),
    )
    const writeConfig = (n) => {
      const lines = [`app: ${appName}`, 'compose: [compose.yaml]', 'health:', '  timeout: 60s', '  interval: 1s', 'releases:', '  keep: 2', 'environments:']
      for (let i = 1; i <= n; i++) {
        const file = join(dir, 'env', `${envName(i)}.env`)
        if (!existsSync(file)) writeFileSync(file, `APP_ENV=${envName(i)}\n`, { mode: 0o600 })
        lines.push(`  ${envName(i)}:`, `    env_file: env/${envName(i)}.env`)
      }
      writeFileSync(join(dir, 'deploy.yml'), `${lines.join('\n')}\n`)
    }
    const cli = (...args) => berthArgv(...args, '--config', join(dir, 'deploy.yml'))
    return { writeConfig, cli }
  }
  const envName = (i) => `e${String(i).padStart(2, '0')}`
  const scaleApp = scaleDir('scale', SCALE_APP)
  const oneApp = scaleDir('one', ONE_APP)
  const sberth = scaleApp.cli
  oneApp.writeConfig(1)
  sh(oneApp.cli('deploy', envName(1)))
  const activeTag = (cli, env) => JSON.parse(sh(cli('releases', env, '--json')).stdout).releases.find((r) => r.status === 'active').tag
  let scaleTag
  let deployed = 0
  const scaleMs = {}
  const refMs = {}
  const scaleProcs = {}
  return (async () => {
    for (const n of SCALE_STEPS) {
      scaleApp.writeConfig(n)
      if (deployed === 0) {
        sh(sberth('deploy', envName(1)))
        scaleTag = activeTag(sberth, envName(1))
        deployed = 1
      }
      // Promote the same release to the new environments, a few at a time (environments deploy concurrently).
      const todo = []
      for (let i = deployed + 1; i <= n; i++) todo.push(envName(i))
      if (todo.length) log(`  promoting ${scaleTag} to ${todo.length} more environment(s), ${SCALE_PARALLEL} at a time`)
      const workers = Array.from({ length: SCALE_PARALLEL }, async () => {
        for (let env = todo.shift(); env; env = todo.shift()) await shAsync(sberth('deploy', env, '--tag', scaleTag, '--yes'))
      })
      await Promise.all(workers)
      deployed = n
      const traced = timed(sberth('status', '--json'), { env: childEnv({ BERTH_TRACE: '1' }) })
      const report = JSON.parse(traced.stdout)
      // Every deploy above waited until healthy; one that turned unhealthy since (a healthcheck timing out on a
      // loaded host) is reported, and status is timed all the same: what it costs does not depend on it.
      const notHealthy = report.environments.filter((e) => !(e.release === scaleTag && e.services.some((s) => s.health === 'healthy')))
      if (notHealthy.length) {
        const what = notHealthy.map((e) => `${e.environment} (${e.release ?? 'no release'}: ${e.services.map((s) => `${s.state}/${s.health || '-'}`).join(', ') || 'no container'})`)
        notes.push(`scale: at ${n} environments, status --json showed ${n - notHealthy.length} of ${n} healthy on ${scaleTag}; not healthy: ${what.join('; ')}`)
      }
      scaleProcs[n] = traceCount(traced.stderr)
      scaleMs[n] = []
      refMs[n] = []
      timed(oneApp.cli('status', '--json')) // warm-up
      for (let i = 0; i < RUNS; i++) {
        const pair = [
          () => scaleMs[n].push(timed(sberth('status', '--json')).ms),
          () => refMs[n].push(timed(oneApp.cli('status', '--json')).ms),
        ]
        if (i % 2) pair.reverse()
        for (const op of pair) op()
      }
      log(`  status --json at ${n}: median ${fmtMs(stats(scaleMs[n]).median)} (1-env app meanwhile ${fmtMs(stats(refMs[n]).median)}), ${scaleProcs[n]} docker/compose processes`)
    }
    for (const n of SCALE_STEPS) {
      ratioRow(`status --json, ${n} env${n === 1 ? '' : 's'}`, scaleMs[n], '1 env', refMs[n], n === 30 ? 1.5 : undefined)
    }
    const [first] = SCALE_STEPS
    const last = SCALE_STEPS.at(-1)
    notes.push(
      `scale: the baseline is a second one-environment app timed alternately at the same step; measured one step after the other instead, ${last} envs / ${first} env = ${(stats(scaleMs[last]).median / stats(scaleMs[first]).median).toFixed(2)}× (load drift included)`,
    )
    const counts = SCALE_STEPS.map((n) => scaleProcs[n])
    rows.push({
      figure: 'status processes at 1/10/30',
      median: counts.join(' / '),
      range: '-',
      baseline: '-',
      ratio: '-',
      target: 'same at every N',
      result: counts.every((c) => c === counts[0]) ? 'PASS' : 'MISS',
    })

    // 5. Memory --------------------------------------------------------------------------------------------
    if (haveTime) {
      const memRow = (figure, values, baseline) => {
        const s = stats(values)
        const b = baseline?.length ? `compose up -d --wait ${fmtMb(stats(baseline).median)}` : '-'
        rows.push({ figure, median: fmtMb(s.median), range: `${fmtMb(s.min)}–${fmtMb(s.max)}`, baseline: b, ratio: '-', target: '< 150 MB', result: s.max < 150 ? 'PASS' : 'MISS' })
      }
      memRow('peak RSS deploy --tag', mem.deploy, mem.raw)
      memRow('peak RSS status', mem.status)
      notes.push('peak RSS is /usr/bin/time -v\'s "Maximum resident set size": the largest single process of the tree (berth\'s node, or a docker/compose child if larger)')
    }
    if (remote.failures.length) throw new Error(`remote figures failed: ${remote.failures.join('; ')}`)
    // 6. Previews by the hundred (issue 14) ---------------------------------------------------------------
    await previews()
  })()
}

await runBench(main, cleanupAll, () => {
  if (rows.length) printTable()
})
