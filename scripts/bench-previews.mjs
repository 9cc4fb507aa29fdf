// The previews scale figure (issue 14): N preview environments of one app on this host, made from one `preview-*`
// pattern with network_pool, deployed and then taken down by `berth prune --expired`. `npm run bench` runs it
// (BENCH_ONLY=previews alone).
//
//   BENCH_PREVIEWS=200                 how many previews (default 200)
//   BENCH_PREVIEWS_PARALLEL=16         deploys at once (each preview has its own lock; default 16 for `one`, 4 for
//                                      `example`)
//   BENCH_PREVIEWS_APP=one             a one-container static web (busybox httpd) with one healthcheck (the
//                                      default: this 2-core host holds 200 of it, and 16 of the example), or
//                      example         the example app (examples/shop: web, store, a migrate job, a volume)
//   BENCH_PREVIEWS_HEALTH_INTERVAL=1s  the interval of the app's docker healthchecks (default: the example's own
//                                      1s; 30s for `one`). The engine runs one exec per container per interval, and
//                                      on Docker 20.10 the first one only after a whole interval (no start_interval)
//   BENCH_PREVIEWS_MAX_LOAD=16         stop deploying more once the 1-minute load average passes it (default 8 per
//                                      core), or after BENCH_PREVIEWS_MAX_S (default 1800) seconds, or 3 failed
//                                      deploys; the rest of the figure runs on those deployed, and a row says where
//                                      the limit came from
//
// App `berthbenchprev` (and `berthbenchprevone`, one preview, the baseline of status); ports 42000-42999;
// network_pool 10.240.0.0/12 in /26s. Everything of those apps goes at the start and the end.

import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, freemem, loadavg } from 'node:os'
import { join } from 'node:path'

import { berthArgv, fmtMs, ROOT, stats, traceCount } from './bench-common.mjs'

export const PREVIEW_APPS = ['berthbenchprev', 'berthbenchprevone']

/**
 * Runs the figure and adds its rows to `table`. `shell` is bench-common's benchShell of the caller; `workDir`
 * its temporary directory. Returns what it measured (also printed as notes).
 */
export async function previewsBench({ shell, table, workDir, runs }) {
  const { log, sh, timed, childEnv } = shell
  const count = Math.max(1, Number.parseInt(process.env.BENCH_PREVIEWS ?? '200', 10) || 200)
  const kind = APPS[process.env.BENCH_PREVIEWS_APP ?? 'one']
  if (!kind) throw new Error(`BENCH_PREVIEWS_APP=${process.env.BENCH_PREVIEWS_APP}: expected ${Object.keys(APPS).join(' or ')}`)
  const parallelDefault = kind === APPS.one ? 16 : 4
  const parallel = Math.max(1, Number.parseInt(process.env.BENCH_PREVIEWS_PARALLEL ?? String(parallelDefault), 10) || parallelDefault)
  const interval = process.env.BENCH_PREVIEWS_HEALTH_INTERVAL || kind.interval
  if (!/^\d+(ms|s|m)$/.test(interval)) throw new Error(`BENCH_PREVIEWS_HEALTH_INTERVAL=${interval}: expected a duration like 30s`)
  const maxLoad = Number(process.env.BENCH_PREVIEWS_MAX_LOAD) || 8 * cpus().length
  const maxS = Number(process.env.BENCH_PREVIEWS_MAX_S) || 1800
  const [many, one] = PREVIEW_APPS.map((app) => previewProject(join(workDir, app), app, kind, interval))
  sh(['bash', join(ROOT, 'scripts', 'prepare-contexts.sh'), join(workDir)], { quiet: true })

  const before = engineMemory(sh)
  log(`previews: deploying ${count} previews of the ${kind.name} (healthchecks every ${interval}), ${parallel} at a time (first one builds, the rest promote its release); stops at load ${maxLoad} or ${maxS} s`)
  const t0 = performance.now()
  sh(many.cli('deploy', 'preview-1'))
  const tag = JSON.parse(sh(many.cli('releases', 'preview-1', '--json')).stdout).releases.find((r) => r.status === 'active').tag
  const deployMs = []
  const todo = Array.from({ length: count - 1 }, (_, i) => `preview-${i + 2}`)
  const failed = []
  let attempted = 1
  let limit // why no more were deployed, when some were left
  const next = () => {
    if (limit || todo.length === 0) return undefined
    const load = loadavg()[0]
    const elapsedS = (performance.now() - t0) / 1000
    if (load > maxLoad) limit = { short: `load ${load.toFixed(1)} > ${maxLoad}`, load }
    else if (elapsedS > maxS) limit = { short: `${elapsedS.toFixed(0)} s > ${maxS} s`, load }
    else if (failed.length >= 3) limit = { short: `${failed.length} deploys failed`, load }
    if (limit) return undefined
    attempted++
    return todo.shift()
  }
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let env = next(); env; env = next()) {
        const s = performance.now()
        const r = await run(many.cli('deploy', env, '--tag', tag, '--yes'), childEnv())
        if (r.code === 0) deployMs.push(performance.now() - s)
        else failed.push(`${env}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`)
        const done = deployMs.length + 1 + failed.length
        if (done % 25 === 0) log(`  ${done}/${count} deployed (${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0].toFixed(1)})`)
      }
    }),
  )
  const allMs = performance.now() - t0
  const loadAfter = loadavg()[0]
  const after = engineMemory(sh)
  const deployed = deployMs.length + 1
  const execsPerS = (after.healthchecked - before.healthchecked) / (durationMs(interval) / 1000)
  if (failed.length) table.notes.push(`previews: ${failed.length} of ${attempted} deploys failed: ${failed.slice(0, 3).join('; ')}${failed.length > 3 ? '; …' : ''}`)
  if (limit) {
    log(`previews: stopped at ${deployed} deployed: ${limit.short}`)
    table.notes.push(
      `previews: no more deployed after ${deployed} of ${count} (${(allMs / 1000).toFixed(0)} s): ${limit.short} on ${cpus().length} cores; ` +
        `the engine runs ${after.healthchecked - before.healthchecked} healthchecks every ${interval} (${execsPerS.toFixed(1)} execs/s, each a runc exec through containerd); ` +
        `engine memory ${after.totalMb.toFixed(0)} MB, ${(freemem() / 1048576).toFixed(0)} MB free; ${deployed} networks of network_pool's ${poolRoom} used`,
    )
  }

  // Every preview's network has a subnet of its own from network_pool.
  const subnets = sh(['docker', 'network', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Name}}'], { quiet: true })
    .stdout.split('\n')
    .filter((n) => n.startsWith('berthbenchprev-preview-'))
  const inPool = subnets.length
    ? sh(['docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', ...subnets], { quiet: true }).stdout.split('\n').filter((s) => /^10\.(24\d|25[0-5])\./.test(s)).length
    : 0

  // status --json at N against the one-preview app, in pairs.
  sh(one.cli('deploy', 'preview-1'))
  const traced = timed(many.cli('status', '--json'), { env: childEnv({ BERTH_TRACE: '1' }) })
  const tracedOne = timed(one.cli('status', '--json'), { env: childEnv({ BERTH_TRACE: '1' }) })
  const healthy = JSON.parse(traced.stdout).environments.filter((e) => e.release === tag && e.services.some((s) => s.health === 'healthy')).length
  const manyMs = []
  const oneMs = []
  for (let i = 0; i < runs; i++) {
    const pair = [() => manyMs.push(timed(many.cli('status', '--json')).ms), () => oneMs.push(timed(one.cli('status', '--json')).ms)]
    if (i % 2) pair.reverse()
    for (const op of pair) op()
  }

  // prune --expired takes every one of them down (ttl 1s: all expired by now), and nothing else: the other app's
  // containers (web and store of the example, so count them, not "one") and every other container stay.
  const others = () => containersBy(sh).filter((c) => !c.project.startsWith('berthbenchprev-'))
  const othersBefore = others()
  const p0 = performance.now()
  const pruned = sh(many.cli('prune', '--expired'), { allowFail: true })
  const pruneMs = performance.now() - p0
  const all = containersBy(sh)
  const left = all.filter((c) => c.project).length
  const leftOfMany = all.filter((c) => c.project.startsWith('berthbenchprev-')).length
  const oneBefore = othersBefore.filter((c) => c.project === 'berthbenchprevone-preview-1').length
  const ids = new Set(all.map((c) => c.id))
  const othersGone = othersBefore.filter((c) => !ids.has(c.id))
  const oneKept = oneBefore > 0 && !othersGone.some((c) => c.project === 'berthbenchprevone-preview-1')
  if (othersGone.length) table.notes.push(`previews: containers not of the pruned app gone after the prune: ${othersGone.map((c) => c.name).join(', ')}`)

  if (pruned.code !== 0) table.notes.push(`previews: prune --expired exited ${pruned.code}: ${(pruned.stderr || pruned.stdout).trim().split('\n').slice(-3).join(' / ')}`)
  const perEnvMb = deployed ? (after.totalMb - before.totalMb) / deployed : undefined
  table.rows.push({
    figure: `previews deployed (${kind.name}, healthchecks every ${interval})`,
    median: `${deployed}/${count}`,
    range: `${inPool} networks in network_pool`,
    baseline: '-',
    ratio: '-',
    target: `${count} on one host`,
    result: deployed === count && healthy === count && inPool === count ? 'PASS' : 'MISS',
  })
  if (limit) {
    table.rows.push({
      figure: `where the limit came from (${kind.name})`,
      median: `${deployed}/${count}`,
      range: limit.short,
      baseline: `${execsPerS.toFixed(1)} healthcheck execs/s`,
      ratio: '-',
      target: '-',
      result: 'info',
    })
  }
  table.rows.push({
    figure: `deploy --tag of one preview (${parallel} at once)`,
    median: deployMs.length ? fmtMs(stats(deployMs).median) : '-',
    range: deployMs.length ? `${fmtMs(stats(deployMs).min)}–${fmtMs(stats(deployMs).max)}` : '-',
    baseline: `all ${deployed}: ${fmtMs(allMs)}`,
    ratio: '-',
    target: '-',
    result: 'info',
  })
  table.ratioRow(`status --json, ${deployed} previews`, manyMs, '1 preview', oneMs, undefined)
  table.rows.push({
    figure: `status engine calls (processes + API requests), ${deployed} / 1`,
    median: `${calls(traced.stderr)} / ${calls(tracedOne.stderr)}`,
    range: '-',
    baseline: '-',
    ratio: '-',
    target: 'same at every N',
    result: calls(traced.stderr) === calls(tracedOne.stderr) ? 'PASS' : 'MISS',
  })
  table.rows.push({
    figure: `prune --expired of ${deployed}`,
    median: fmtMs(pruneMs),
    range: `${leftOfMany} containers left`,
    baseline: `1-preview app kept: ${oneKept ? 'yes' : 'NO'}, others gone: ${othersGone.length}`,
    ratio: '-',
    target: 'all gone, nothing else',
    result: pruned.code === 0 && leftOfMany === 0 && oneKept && othersGone.length === 0 ? 'PASS' : 'MISS',
  })
  table.notes.push(
    `previews: engine memory (dockerd + containerd + shims RSS + the containers' cgroups) ${before.totalMb.toFixed(0)} MB before, ${after.totalMb.toFixed(0)} MB with ${deployed} previews: ${perEnvMb === undefined ? '-' : `${perEnvMb.toFixed(1)} MB`} per preview (${after.containers - before.containers} more containers); load average ${loadAfter.toFixed(1)} with them all up (${execsPerS.toFixed(1)} healthcheck execs/s); ${healthy}/${deployed} healthy on ${tag} at the status read; ${left} compose containers on the engine after the prune`,
  )
  return { count, deployed, perEnvMb }
}

/** Docker processes and Engine API requests a traced berth made (BERTH_TRACE=1: `[trace]` and `[trace-api]` lines). */
function calls(stderr) {
  return `${traceCount(stderr)}+${stderr.split('\n').filter((l) => l.startsWith('[trace-api] ')).length}`
}

/** A project of the app with one pattern, preview-*, its env template, ports, ttl and network_pool. */
function previewProject(dir, app, kind, interval) {
  mkdirSync(join(dir, 'env'), { recursive: true })
  kind.write(join(dir, 'shop'), interval)
  writeFileSync(
    join(dir, 'preview.env.template'),
    ['WEB_PORT=${BERTH_PORT_1}', 'APP_ENV=${BERTH_ENV}', 'JWT_SECRET_KEY=bench-preview-secret', 'DATABASE_URL=postgres://shop:bench@db.invalid:5432/${BERTH_ENV}', ''].join('\n'),
  )
  const first = app === PREVIEW_APPS[0] ? 42000 : 43000
  writeFileSync(
    join(dir, 'deploy.yml'),
    [
      `app: ${app}`,
      'compose: [shop/compose.yaml]',
      'network_pool:',
      '  base: 10.240.0.0/12',
      '  size: 26',
      'health:',
      '  timeout: 120s',
      '  interval: 1s',
      'releases:',
      '  keep: 2',
      'environments:',
      '  preview-*:',
      '    env_template: preview.env.template',
      `    ports: ${first}-${first + 999}`,
      '    ttl: 1s',
      '    env_file: env/preview-*.env',
      '',
    ].join('\n'),
  )
  return { cli: (...args) => berthArgv(...args, '--config', join(dir, 'deploy.yml')) }
}

function run(argv, env) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }))
  })
}

/** Every container on the engine (running or not) with its compose project ('' when it has none). */
function containersBy(sh) {
  return sh(['docker', 'ps', '--all', '--format', '{{.ID}}\t{{.Names}}\t{{.Label "com.docker.compose.project"}}'], { quiet: true })
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, name, project = ''] = l.split('\t')
      return { id, name, project }
    })
}

function durationMs(d) {
  const [, n, unit] = /^(\d+)(ms|s|m)$/.exec(d)
  return Number(n) * { ms: 1, s: 1000, m: 60000 }[unit]
}

/** /26s in network_pool's 10.240.0.0/12. */
const poolRoom = 2 ** (26 - 12)

/**
 * The apps the figure can run, each written into a project's shop/ directory with its compose.yaml (one env
 * file: WEB_PORT, APP_ENV, JWT_SECRET_KEY, DATABASE_URL) and its healthchecks every `interval`.
 */
const APPS = {
  example: {
    name: 'example app',
    interval: '1s',
    write(dir, interval) {
      cpSync(join(ROOT, 'examples', 'shop'), dir, { recursive: true })
      const compose = join(dir, 'compose.yaml')
      writeFileSync(compose, readFileSync(compose, 'utf8').replace(/^( {6}interval:) 1s$/gm, `$1 ${interval}`))
    },
  },
  one: {
    name: 'one-container app',
    interval: '30s',
    write(dir, interval) {
      mkdirSync(join(dir, 'web', 'www'), { recursive: true })
      cpSync(join(ROOT, 'examples', 'shop', 'web', 'www', 'health'), join(dir, 'web', 'www', 'health'))
      writeFileSync(join(dir, 'web', 'www', 'index.html'), '<p>berth preview</p>\n')
      writeFileSync(
        join(dir, 'web', 'Dockerfile'),
        ['# The static busybox (scripts/prepare-contexts.sh) serving one directory.', 'FROM scratch', 'COPY busybox /bin/busybox', 'COPY www/ /www/', 'EXPOSE 8080', 'ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]', ''].join('\n'),
      )
      writeFileSync(
        join(dir, 'compose.yaml'),
        [
          'services:',
          '  web:',
          '    build: ./web',
          '    restart: unless-stopped',
          // httpd as PID 1 has no SIGTERM handler, so every stop (prune's) would wait out its 10 s: tini forwards it.
          '    init: true',
          '    ports:',
          '      - "${WEB_PORT:?set WEB_PORT in the env file}:8080"',
          '    environment:',
          '      APP_ENV: ${APP_ENV}',
          '    healthcheck:',
          '      test: ["CMD", "/bin/busybox", "wget", "-qO", "/dev/null", "http://127.0.0.1:8080/health"]',
          `      interval: ${interval}`,
          '      timeout: 2s',
          '      retries: 3',
          '',
        ].join('\n'),
      )
    },
  },
}

/** RSS of dockerd, containerd and the shims, and the memory of every container's cgroup, in MB. */
function engineMemory(sh) {
  const rss = (pattern) =>
    sh(['ps', '-eo', 'rss=,comm='], { quiet: true })
      .stdout.split('\n')
      .filter((l) => pattern.test(l.trim().split(/\s+/)[1] ?? ''))
      .reduce((a, l) => a + Number(l.trim().split(/\s+/)[0]) / 1024, 0)
  const ids = sh(['docker', 'ps', '--quiet', '--no-trunc'], { quiet: true }).stdout.split('\n').filter(Boolean)
  let cgroups = 0
  for (const id of ids) {
    for (const path of [`/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`, `/sys/fs/cgroup/docker/${id}/memory.current`, `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`]) {
      try {
        cgroups += Number(readFileSync(path, 'utf8')) / 1048576
        break
      } catch {
        // the next layout
      }
    }
  }
  const daemons = rss(/^(dockerd|containerd)$/) + rss(/^containerd-shim/)
  const healthchecked = ids.length ? sh(['docker', 'ps', '--quiet', '--filter', 'health=healthy'], { quiet: true }).stdout.split('\n').filter(Boolean).length : 0
  return { totalMb: daemons + cgroups, containers: ids.length, healthchecked }
}

// Alone: `node scripts/bench-previews.mjs` (npm run bench runs it too, with BENCH_ONLY=previews alone).
if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { benchShell, benchTable } = await import('./bench-common.mjs')
  const shell = benchShell('previews')
  const runs = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? '5', 10) || 5)
  const table = benchTable({ runs })
  const workDir = mkdtempSync(join(tmpdir(), 'berth-bench-previews-'))
  const cleanup = shell.cleanupOnce(PREVIEW_APPS.join(', '), async () => shell.cleanupApps(PREVIEW_APPS), () => workDir)
  shell.prepare()
  shell.cleanupApps(PREVIEW_APPS)
  await shell.runBench(() => previewsBench({ shell, table, workDir, runs }), cleanup, table.printTable)
}
