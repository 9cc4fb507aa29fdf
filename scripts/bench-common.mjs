// What the benchmarks share: logging with elapsed time, a child environment without berth's own
// switches, a synchronous runner that fails loudly, the set-up (build, engine) they start with, timing,
// the clean-up of an app's objects on an engine, and the table of figures.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import http from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const TIME_BIN = '/usr/bin/time'

export const berthArgv = (...args) => [process.execPath, join(ROOT, 'bin', 'run.js'), ...args]
/** How many docker/compose processes a berth run started: the lines BERTH_TRACE=1 prints for them. */
export const traceCount = (stderr) => stderr.split('\n').filter((l) => l.startsWith('[trace] ')).length

export function stats(values) {
  const v = [...values].sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
  return { median, min: v[0], max: v[v.length - 1] }
}

export function fmtMs(ms) {
  if (ms === undefined) return '-'
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

/** How many more networks the local engine's address pools can give: berth's own count (berth doctor's network-pools check). */
export async function networkRoom() {
  const { addressPoolUsage } = await import('../dist/preflight/addressPools.js')
  const { localTarget } = await import('../dist/target/local.js')
  const target = localTarget({ stateDir: tmpdir() })
  return (await addressPoolUsage({ run: target.run, target })).free
}

/**
 * The table of figures: a row per figure, notes below it. `ratioRow` takes a figure and its baseline
 * (ratio = median / baseline median, PASS when ratio ≤ maxRatio); `skippedRow` says why a figure was not measured.
 */
export function benchTable({ runs }) {
  const rows = []
  const notes = []
  const startLoad = loadavg()[0].toFixed(1)

  /**
   * A figure against its baseline. The ratio is the median of the ratios of paired runs (values[i] against
   * baselineValues[i], which every figure measures one right after the other): a slow moment of a shared machine
   * then slows both sides of a pair, where it moved the two medians apart. Runs that are not paired (arrays of
   * different lengths) take the ratio of the medians; that one is shown beside it for every row.
   */
  function ratioRow(figure, values, baselineName, baselineValues, maxRatio, fmt = fmtMs) {
    const s = stats(values)
    const b = baselineValues ? stats(baselineValues) : undefined
    const ofMedians = b ? s.median / b.median : undefined
    const paired = b && values.length === baselineValues.length ? stats(values.map((v, i) => v / baselineValues[i])).median : undefined
    const ratio = paired ?? ofMedians
    rows.push({
      figure,
      median: fmt(s.median),
      range: `${fmt(s.min)}–${fmt(s.max)}`,
      baseline: b ? `${baselineName} ${fmt(b.median)}` : '-',
      ratio: ratio === undefined ? '-' : `${ratio.toFixed(2)}×`,
      medians: ofMedians === undefined ? '-' : `${ofMedians.toFixed(2)}×`,
      target: maxRatio === undefined ? '-' : `≤ ${Number.isInteger(maxRatio) ? maxRatio.toFixed(1) : maxRatio}×`,
      result: maxRatio === undefined || ratio === undefined ? 'info' : ratio <= maxRatio ? 'PASS' : 'MISS',
    })
  }

  function skippedRow(figure, why, target = '-') {
    rows.push({ figure, median: '-', range: '-', baseline: '-', ratio: '-', medians: '-', target, result: `skipped (${why})` })
  }

  function printTable() {
    const head = { figure: 'figure', median: 'median', range: 'min–max', baseline: 'baseline (median)', ratio: 'paired ratio', medians: 'of medians', target: 'target', result: 'result' }
    const cols = Object.keys(head)
    // A row without a cell (rows other figures push by hand) shows '-' there.
    const cell = (r, c) => String(r[c] ?? '-')
    const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => [...cell(r, c)].length))]))
    const line = (r) => cols.map((c) => cell(r, c) + ' '.repeat(width[c] - [...cell(r, c)].length)).join('  ').trimEnd()
    const out = [line(head), cols.map((c) => '-'.repeat(width[c])).join('  '), ...rows.map(line)]
    const load = `load average at start ${startLoad}, at end ${loadavg()[0].toFixed(1)}`
    process.stdout.write(`\nberth benchmark — ${runs} run(s) per figure, node ${process.version}, ${new Date().toISOString()}, ${load}\n\n${out.join('\n')}\n`)
    if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`)
  }

  return { rows, notes, ratioRow, skippedRow, printTable }
}

export function benchShell(name) {
  const t0 = performance.now()
  const elapsedS = () => (performance.now() - t0) / 1000

  function log(message) {
    process.stderr.write(`[${name} ${elapsedS().toFixed(1).padStart(6)}s] ${message}\n`)
  }

  /** berth and the baselines run with the caller's environment minus berth's own switches, plain output. */
  function childEnv(extra = {}) {
    const env = { ...process.env, CI: 'true', NO_COLOR: '1', ...extra }
    for (const key of ['BERTH_TRACE', 'BERTH_DEBUG', 'BERTH_CONFIG']) if (!(key in extra)) delete env[key]
    return env
  }

  function sh(argv, { cwd = ROOT, allowFail = false, env = childEnv(), quiet = false } = {}) {
    const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
    if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`)
    const out = { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
    if (out.code !== 0 && !allowFail) {
      throw new Error(`\`${argv.join(' ')}\` exited ${out.code}\n${(out.stderr || out.stdout).trim().split('\n').slice(-25).join('\n')}`)
    }
    if (!quiet && out.code !== 0) log(`(ignored) \`${argv.join(' ')}\` exited ${out.code}: ${out.stderr.trim().split('\n').pop()}`)
    return out
  }

  /** Wall time of one command in ms; with `memory`, also the peak RSS (MB) that /usr/bin/time -v reports. */
  function timed(argv, { memory = false, ...options } = {}) {
    const full = memory ? [TIME_BIN, '-v', ...argv] : argv
    const t0 = process.hrtime.bigint()
    const r = sh(full, options)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    let rssMb
    if (memory) {
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)
      if (m) rssMb = Number(m[1]) / 1024
    }
    return { ms, rssMb, ...r }
  }

  /**
   * Removes every compose project (`<app>-<env>`), container, image and named volume of these apps from one
   * engine (the shell's, or `dockerHost`), by compose project name and by label berth.app only.
   */
  function cleanupApps(apps, { dockerHost } = {}) {
    const env = dockerHost ? childEnv({ DOCKER_HOST: dockerHost }) : childEnv()
    const ours = (project) => apps.some((app) => project.startsWith(`${app}-`))
    const lines = (argv) => sh(argv, { allowFail: true, quiet: true, env }).stdout.split('\n').filter(Boolean)
    let projects = []
    try {
      projects = JSON.parse(sh(['docker', 'compose', 'ls', '--all', '--format', 'json'], { allowFail: true, quiet: true, env }).stdout || '[]').map((p) => p.Name)
    } catch {
      projects = []
    }
    for (const project of projects.filter(ours)) {
      sh(['docker', 'compose', '-p', project, 'down', '--volumes', '--remove-orphans', '--timeout', '2'], { allowFail: true, env })
    }
    for (const app of apps) {
      const ids = lines(['docker', 'ps', '--all', '--quiet', '--filter', `label=berth.app=${app}`])
      if (ids.length) sh(['docker', 'rm', '--force', '--volumes', ...ids], { allowFail: true, env })
      // By reference, not by ID: an untag never touches an image another app also uses.
      const refs = lines(['docker', 'image', 'ls', '--filter', `label=berth.app=${app}`, '--format', '{{.Repository}}:{{.Tag}}']).filter((ref) => !ref.includes('<none>'))
      if (refs.length) sh(['docker', 'image', 'rm', ...new Set(refs)], { allowFail: true, env })
    }
    // Named volumes of our projects that `down` without the compose files may leave behind.
    const vols = lines(['docker', 'volume', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Name}}\t{{.Label "com.docker.compose.project"}}'])
      .map((l) => l.split('\t'))
      .filter(([name, project]) => name && project && ours(project))
      .map(([name]) => name)
    if (vols.length) sh(['docker', 'volume', 'rm', ...vols], { allowFail: true, env })
  }

  /** Builds berth when dist/ is missing and makes sure the engine (and, when asked, the edge image) is there. */
  function prepare({ edge = false } = {}) {
    if (!existsSync(join(ROOT, 'dist', 'commands')) || !existsSync(join(ROOT, 'node_modules'))) {
      if (!existsSync(join(ROOT, 'node_modules'))) {
        log('npm ci')
        sh(['npm', 'ci', '--no-audit', '--no-fund'])
      }
      log('dist/ is missing: npm run build')
      sh(['npm', 'run', 'build'])
    }
    log(`engine: bash scripts/engine.sh${edge ? '; edge image: bash scripts/edge-image.sh (berth-edge:local)' : ''}`)
    sh(['bash', join(ROOT, 'scripts', 'engine.sh')])
    if (edge) sh(['bash', join(ROOT, 'scripts', 'edge-image.sh')])
  }

  /** The shared edge (compose project berth-edge) as seen by a benchmark whose app is `app`. */
  function benchEdge(app) {
    const container = () => sh(['docker', 'ps', '--all', '--quiet', '--filter', 'label=com.docker.compose.project=berth-edge'], { allowFail: true, quiet: true }).stdout.trim().split('\n')[0]
    const exists = () => Boolean(container())
    /** The admin socket on the host: in the directory the edge mounts at /berth/admin (root's alone, as berth's runs are). */
    const socket = () => {
      const format = '{{range .Mounts}}{{if eq .Destination "/berth/admin"}}{{.Source}}{{end}}{{end}}'
      const dir = sh(['docker', 'inspect', '--format', format, container()], { allowFail: true, quiet: true }).stdout.trim()
      return dir ? join(dir, 'admin.sock') : undefined
    }

    const servers = () =>
      new Promise((resolve) => {
        const socketPath = socket()
        if (!socketPath) return resolve({ ok: false })
        // The Host the edge's admin.origins allows.
        const req = http.get({ socketPath, path: '/config/apps/http/servers', headers: { host: 'berth' }, agent: false, timeout: 3000 }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (body += d))
          res.on('end', () => {
            try {
              resolve({ ok: true, servers: JSON.parse(body || 'null') ?? {} })
            } catch {
              resolve({ ok: true, servers: {} })
            }
          })
        })
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', () => resolve({ ok: false }))
      })

    /** Routes on the edge that are not this benchmark's (any server, any route), by id or as "(no id)". */
    const foreignRoutes = (list) => {
      const out = []
      for (const [name, server] of Object.entries(list ?? {})) {
        for (const route of server?.routes ?? []) {
          const id = route?.['@id']
          if (typeof id !== 'string' || !id.startsWith(`berth-${app}-`)) out.push(`${name}:${id ?? '(no id)'}`)
        }
      }
      return out
    }

    /** Takes the edge down when it holds nothing but this benchmark's routes; true when it did. */
    async function downIfOurs(when) {
      if (!exists()) return false
      const read = await servers()
      if (!read.ok) {
        log(`${when}: berth-edge exists but its admin API does not answer on its socket; left as it is`)
        return false
      }
      const foreign = foreignRoutes(read.servers)
      if (foreign.length) {
        log(`${when}: berth-edge holds other routes (${foreign.join(', ')}); left running`)
        return false
      }
      log(`${when}: docker compose -p berth-edge down -v (only ${app} routes, or none, on it)`)
      sh(['docker', 'compose', '-p', 'berth-edge', 'down', '--volumes', '--timeout', '1'], { allowFail: true })
      return true
    }

    /**
     * Before a run: an edge whose admin API does not answer on its socket (stopped, or an earlier berth's, which
     * the first deploy would recreate inside a measured step) is an error; one holding only this benchmark's routes goes.
     */
    async function prepareEdge() {
      if (!exists()) return
      const read = await servers()
      if (!read.ok) {
        throw new Error(
          'a berth-edge project exists but its admin API does not answer on its root-only socket (not running, or started by an earlier berth: any blue-green deploy moves it to the socket). Fix that first, or take it down when nothing needs it: docker compose -p berth-edge down -v',
        )
      }
      await downIfOurs('start')
    }

    return { downIfOurs, prepareEdge }
  }

  /**
   * The benchmark's clean-up, run once: at the end, or on SIGINT, SIGTERM or SIGHUP (then exit 130).
   * `steps` removes what it created on the engine; the temporary directory `workDir()` goes afterwards,
   * unless BENCH_KEEP is set.
   */
  function cleanupOnce(description, steps, workDir) {
    let cleaned = false
    async function cleanupAll() {
      if (cleaned) return
      cleaned = true
      log(`cleaning up: ${description}`)
      try {
        await steps()
      } catch (error) {
        log(`cleanup failed: ${error.message}`)
      }
      const dir = workDir()
      if (dir && !process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true })
      else if (dir) log(`kept ${dir}`)
    }
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(signal, () => {
        log(`${signal}: stopping`)
        cleanupAll().finally(() => process.exit(130))
      })
    }
    return cleanupAll
  }

  /** Runs the benchmark, cleans up whatever happened, prints what was measured and the wall time, and exits 0 or 1. */
  async function runBench(main, cleanupAll, printResults) {
    let exitCode = 0
    try {
      await main()
    } catch (error) {
      exitCode = 1
      log(`failed: ${error.stack ?? error.message}`)
    } finally {
      await cleanupAll()
    }
    printResults()
    process.stdout.write(`\ntotal wall time: ${elapsedS().toFixed(0)} s${exitCode ? ' (the benchmark failed before finishing; see stderr)' : ''}\n`)
    process.exit(exitCode)
  }

  return { log, childEnv, sh, timed, cleanupApps, prepare, elapsedS, benchEdge, cleanupOnce, runBench }
}
