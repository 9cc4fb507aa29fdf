// The remote figures of `npm run bench` (issue 11): an environment on the second host of this machine
// (scripts/second-host.sh, ../shared/ENGINE.md), reached by berth over its one SSH connection.
//
//   deploy production --tag (ssh, A↔B)  berth switching the remote environment between two releases, against
//                                        raw `DOCKER_HOST=ssh://… docker compose -p <project> -f <that release's
//                                        recorded config, copied here> up -d --wait` making the same switch,
//                                        alternated in pairs as the local deploy figure is. Target ≤ 1.0×.
//   status production (ssh)              `berth status production` (on the second host) against
//                                        `berth status staging` (this machine's engine), same deploy.yml,
//                                        paired. Target ≤ 1.5×.
//   deploy production --tag (swarm, A↔B) berth switching a `target: swarm` environment on the second host's
//                                        swarm between two releases (pinned by digest in its registry),
//                                        against raw `DOCKER_HOST=ssh://… docker stack deploy --detach=false`
//                                        of that release's recorded stack file, copied here, making the same
//                                        switch, paired. Target ≤ 1.2×. App `berthbenchswarm`, port 19006:
//                                        its stack, images and registry repositories are removed at both ends.
//
// App `berthbenchremote` (test/fixtures/app): staging on this engine (port 19004), production on the second
// host (port 19005 there). Its objects are removed from both engines by compose project and label
// berth.app, and its state on the host (/var/lib/berth/berthbenchremote), at the start and at the end. The
// second host is started (as root) when `second-host.sh status` says it is down, and then stopped at the end;
// one that was already running, or partly, is left running. When it cannot be had, both rows say why.

import { cpSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'

import { berthArgv, fmtMs, networkRoom, ROOT, traceCount } from './bench-common.mjs'

export const REMOTE_APP = 'berthbenchremote'
export const SWARM_APP = 'berthbenchswarm'
const PORTS = { staging: 19004, production: 19005 }
const SWARM_PORT = 19006
const SWARM_STACK = `${SWARM_APP}-production`
/** The second host's registry (scripts/second-host.sh): on its 127.0.0.1:5000, its storage on this file system. */
const REGISTRY = '127.0.0.1:5000'
const REGISTRY_REPOSITORIES = '/var/lib/berth-host-b/registry/docker/registry/v2/repositories'
const SECOND_HOST = join(ROOT, 'scripts', 'second-host.sh')
const FIGURES = { deploy: 'deploy production --tag (ssh, A↔B)', status: 'status production (ssh)', swarm: 'deploy production --tag (swarm, A↔B)' }
const TARGETS = { deploy: 1.0, status: 1.5, swarm: 1.2 }
const targetText = (key) => `≤ ${TARGETS[key].toFixed(1)}×`

/**
 * `shell`: bench-common's benchShell (log, childEnv, sh, timed, cleanupApps); `table`: its benchTable (rows,
 * notes, ratioRow, skippedRow); `workDir()`: the benchmark's temporary directory.
 */
export function remoteBench({ shell, table, runs, workDir }) {
  const { log, childEnv, sh, timed, cleanupApps } = shell
  const { rows, notes, ratioRow, skippedRow } = table
  const failures = []
  /** The second host as second-host.sh describes it, once it answers. */
  let host
  let startedHost = false
  let touched = false

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const hostStatus = () => sh(['bash', SECOND_HOST, 'status'], { allowFail: true, quiet: true })

  /** Brings the second host up when it is not (as root); the reason it cannot be had, or undefined. */
  function ensureHost() {
    const before = hostStatus()
    if (before.code !== 0) {
      const state = before.stdout.trim() || `second-host.sh status exited ${before.code}`
      if (!isRoot) return `${state}; starting it needs root (bash scripts/second-host.sh up)`
      log(`remote: ${state}: bash scripts/second-host.sh up`)
      const up = sh(['bash', SECOND_HOST, 'up'], { allowFail: true })
      // Only what was wholly down is this benchmark's to stop (also when `up` failed half-way); a partly running host is someone's.
      if (before.code === 1) startedHost = true
      const after = hostStatus()
      if (up.code !== 0 || after.code !== 0) {
        const why = (up.stderr.trim().split('\n').pop() || after.stdout.trim()).slice(0, 120)
        return `second host did not come up: ${why}`
      }
    }
    const vars = Object.fromEntries(
      sh(['bash', SECOND_HOST, 'env'], { quiet: true })
        .stdout.split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    if (!vars.BERTH_HOST_B || !vars.BERTH_HOST_B_SOCKET || !vars.BERTH_HOST_B_ADDR) return 'second-host.sh env did not name the host, its address and its socket'
    const url = new URL(vars.BERTH_HOST_B)
    host = { url: vars.BERTH_HOST_B, addr: vars.BERTH_HOST_B_ADDR, socket: vars.BERTH_HOST_B_SOCKET, login: `${url.username ? `${url.username}@` : ''}${url.hostname}`, port: url.port }
    return undefined
  }

  /** A command on the host, over a plain ssh login (set-up and clean-up only, never timed). */
  const onHost = (command, options = {}) =>
    sh(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', ...(host.port ? ['-p', host.port] : []), host.login, command], options)

  function cleanupBoth() {
    cleanupApps([REMOTE_APP])
    cleanupApps([REMOTE_APP], { dockerHost: host.socket })
    cleanupSwarm()
    for (const app of [REMOTE_APP, SWARM_APP]) {
      const r = onHost(`rm -rf /var/lib/berth/${app}`, { allowFail: true, quiet: true })
      if (r.code !== 0) log(`remote: could not remove /var/lib/berth/${app} on ${host.url}: ${r.stderr.trim().split('\n').pop()}`)
    }
  }

  /** The swarm figure's stack (waiting until Swarm has removed its networks), images and registry repositories. */
  function cleanupSwarm() {
    const env = childEnv({ DOCKER_HOST: host.socket })
    const lines = (argv) => sh(argv, { allowFail: true, quiet: true, env }).stdout.split('\n').filter(Boolean)
    sh(['docker', 'stack', 'rm', SWARM_STACK], { allowFail: true, quiet: true, env })
    for (let i = 0; i < 60 && lines(['docker', 'network', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${SWARM_STACK}`]).length > 0; i++) {
      sh(['sleep', '0.5'], { quiet: true })
    }
    const containers = lines(['docker', 'ps', '--all', '--quiet', '--filter', `label=com.docker.stack.namespace=${SWARM_STACK}`])
    if (containers.length) sh(['docker', 'rm', '--force', '--volumes', ...containers], { allowFail: true, quiet: true, env })
    const volumes = lines(['docker', 'volume', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${SWARM_STACK}`])
    if (volumes.length) sh(['docker', 'volume', 'rm', ...volumes], { allowFail: true, quiet: true, env })
    cleanupApps([SWARM_APP], { dockerHost: host.socket })
    // Images pulled by digest only (no tag) are still labelled by berth.
    const ids = lines(['docker', 'image', 'ls', '--quiet', '--filter', `label=berth.app=${SWARM_APP}`])
    if (ids.length) sh(['docker', 'image', 'rm', '--force', ...new Set(ids)], { allowFail: true, quiet: true, env })
    sh(['sh', '-c', `rm -rf ${REGISTRY_REPOSITORIES}/${SWARM_APP}-*`], { allowFail: true, quiet: true })
  }

  /** The fixture app with staging here and production on the second host. */
  function setUpApp() {
    const dir = join(workDir(), 'remote')
    cpSync(join(ROOT, 'test', 'fixtures', 'app'), dir, { recursive: true })
    const deployYml = join(dir, 'deploy.yml')
    const fixture = readFileSync(deployYml, 'utf8')
    const text = fixture.replace(/^app: .*$/m, `app: ${REMOTE_APP}`).replace(/^( {2})production:\n/m, `$1production:\n$1$1host: ${host.url}\n`)
    if (!text.includes(`host: ${host.url}`) || !text.includes(`app: ${REMOTE_APP}`)) throw new Error(`remote: could not rewrite ${deployYml} (no "app:" or "  production:" line)`)
    writeFileSync(deployYml, text)
    for (const [env, port] of Object.entries(PORTS)) {
      const file = join(dir, 'env', `${env}.env`)
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^WEB_PORT=.*$/m, `WEB_PORT=${port}`))
      chmodSync(file, 0o600)
    }
    sh(['bash', join(ROOT, 'scripts', 'prepare-contexts.sh'), dir], { quiet: true })
    return dir
  }

  /** What the web of production on the host serves as its version (untimed check that a switch happened). */
  function servedVersion(port = PORTS.production) {
    const r = sh(['curl', '-fsS', '--max-time', '5', `http://${host.addr}:${port}/version`], { allowFail: true, quiet: true })
    return r.code === 0 ? r.stdout.trim() : `(curl exited ${r.code})`
  }

  /** Two releases of production, A (previous) and B (active), serving the versions `names`: tag → version. */
  function twoReleases(dir, berth, names, where) {
    const versions = {}
    for (const v of names) {
      writeFileSync(join(dir, 'web', 'www', 'version'), `${v}\n`)
      log(`berth deploy production (${v}, ${where})`)
      sh(berth('deploy', 'production', '--yes'))
      const active = JSON.parse(sh(berth('releases', 'production', '--json')).stdout).releases.find((r) => r.status === 'active')
      versions[active.tag] = v
    }
    const releases = JSON.parse(sh(berth('releases', 'production', '--json')).stdout).releases
    const B = releases.find((r) => r.status === 'active')
    const A = releases.find((r) => r.status === 'previous')
    if (!A || !B) throw new Error(`expected an active and a previous release of production, got ${releases.map((r) => `${r.tag}:${r.status}`).join(' ')}`)
    log(`releases on ${host.url}: A=${A.tag} B=${B.tag}`)
    return { A, B, versions }
  }

  /** The files berth recorded for `records` on the host, copied here once: tag → path (what a baseline applies). */
  async function recordedFiles(app, records, name) {
    const { configPath } = await import('../dist/state/paths.js')
    const rawDir = join(workDir(), name)
    mkdirSync(rawDir, { recursive: true })
    const rawFile = {}
    for (const r of records) {
      rawFile[r.tag] = join(rawDir, r.configFile)
      writeFileSync(rawFile[r.tag], onHost(`cat ${configPath(`/var/lib/berth/${app}`, 'production', r.configFile)}`, { quiet: true }).stdout)
    }
    return rawFile
  }

  /**
   * As the local figure: each timed switch changes the running release; `recorded` is berth's active release,
   * `running` what the engine runs; the order alternates so each side switches both ways. `raw(tag)` and
   * `berth(tag)` make the switch and return its time; `check(tag, who)` proves it happened.
   */
  async function pairedSwitches({ A, B, label, raw, berth, resync, check }) {
    let recorded = B.tag
    let running = B.tag
    const other = (tag) => (tag === A.tag ? B.tag : A.tag)
    const berthMs = []
    const rawMs = []
    log(`${label}: deploy --tag switches A↔B on ${host.url} (${runs} runs each side)`)
    for (let i = 0; i < runs; i++) {
      for (const side of i % 2 === 0 ? ['berth', 'raw'] : ['raw', 'berth']) {
        if (side === 'raw') {
          const target = other(running)
          rawMs.push(raw(target))
          running = target
          await check(target, 'the baseline')
        } else {
          const target = other(recorded)
          if (target === running) {
            resync(recorded) // untimed: bring the engine back to what berth recorded
            running = recorded
          }
          berthMs.push(berth(target))
          recorded = running = target
          await check(target, 'berth')
        }
      }
      log(`  ${label} deploy run ${i + 1}/${runs}: berth ${fmtMs(berthMs.at(-1))}, baseline ${fmtMs(rawMs.at(-1))}`)
    }
    if (running !== recorded) resync(recorded) // untimed: leave production as berth recorded it (no drift afterwards)
    return { berthMs, rawMs }
  }

  async function deployFigure(dir, berth) {
    const { A, B, versions } = twoReleases(dir, berth, ['bench-remote-A', 'bench-remote-B'], `built on ${host.url}`)
    // The baseline applies the very file berth recorded for each release.
    const rawFile = await recordedFiles(REMOTE_APP, [A, B], 'remote-raw')
    const project = `${REMOTE_APP}-production`
    const envFile = join(dir, 'env', 'production.env')
    const rawEnv = childEnv({ DOCKER_HOST: host.url })
    const rawSwitch = (tag) => ['docker', 'compose', '-p', project, '-f', rawFile[tag], '--env-file', envFile, 'up', '-d', '--wait']
    const check = (tag, who) => {
      const served = servedVersion()
      if (served !== versions[tag]) throw new Error(`remote: after ${who} switched to ${tag}, production on ${host.url} serves "${served}", not "${versions[tag]}"`)
    }

    const procs = new Set()
    const { berthMs, rawMs } = await pairedSwitches({
      A,
      B,
      label: 'remote',
      raw: (tag) => timed(rawSwitch(tag), { env: rawEnv }).ms,
      berth: (tag) => {
        const r = timed(berth('deploy', 'production', '--tag', tag, '--yes'), { env: childEnv({ BERTH_TRACE: '1' }) })
        procs.add(traceCount(r.stderr))
        return r.ms
      },
      resync: (tag) => sh(rawSwitch(tag), { env: rawEnv }),
      check,
    })
    ratioRow(FIGURES.deploy, berthMs, 'ssh:// compose up -d --wait', rawMs, TARGETS.deploy)
    notes.push(
      `remote deploy --tag: berth reaches ${host.url} over one SSH connection per run; the baseline is DOCKER_HOST=${host.url} docker compose (the docker CLI's own ssh:// transport: an ssh process for each engine connection, no ControlMaster). docker/compose processes berth starts per switch: ${[...procs].join(', ')} (BERTH_TRACE); each switch checked by the version production serves on ${host.addr}:${PORTS.production}`,
    )
  }

  function statusFigure(berth) {
    log('remote: berth deploy staging (this engine), for the local side of the status figure')
    sh(berth('deploy', 'staging', '--yes'))
    const ms = { remote: [], local: [] }
    const ops = {
      remote: () => ms.remote.push(timed(berth('status', 'production')).ms),
      local: () => ms.local.push(timed(berth('status', 'staging')).ms),
    }
    ops.remote() // warm-up (page cache, the host's sshd)
    ops.local()
    ms.remote.length = ms.local.length = 0
    log(`remote: status production (${host.url}) against status staging (this engine), ${runs} pairs`)
    for (let i = 0; i < runs; i++) for (const side of i % 2 === 0 ? ['remote', 'local'] : ['local', 'remote']) ops[side]()
    ratioRow(FIGURES.status, ms.remote, 'status staging (local)', ms.local, TARGETS.status)
  }

  /** The fixture app as one swarm environment on the second host, with the registry there. */
  function setUpSwarmApp() {
    const dir = join(workDir(), 'swarm')
    cpSync(join(ROOT, 'test', 'fixtures', 'app'), dir, { recursive: true })
    const deployYml = join(dir, 'deploy.yml')
    const text = readFileSync(deployYml, 'utf8')
      .replace(/^app: .*$/m, `app: ${SWARM_APP}`)
      .replace(/^( {2})production:\n/m, `$1production:\n$1$1host: ${host.url}\n$1$1target: swarm\n$1$1registry: ${REGISTRY}\n`)
    if (!text.includes('target: swarm') || !text.includes(`app: ${SWARM_APP}`)) throw new Error(`swarm: could not rewrite ${deployYml}`)
    writeFileSync(deployYml, text)
    const file = join(dir, 'env', 'production.env')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^WEB_PORT=.*$/m, `WEB_PORT=${SWARM_PORT}`))
    chmodSync(file, 0o600)
    sh(['bash', join(ROOT, 'scripts', 'prepare-contexts.sh'), dir], { quiet: true })
    return dir
  }

  async function swarmFigure() {
    const dir = setUpSwarmApp()
    const berth = (...args) => berthArgv(...args, '--config', join(dir, 'deploy.yml'))
    const served = () => servedVersion(SWARM_PORT)
    const { A, B, versions } = twoReleases(dir, berth, ['bench-swarm-A', 'bench-swarm-B'], `swarm on ${host.url}, pushed to ${REGISTRY}`)
    // The baseline deploys the very stack file berth recorded for each release (pinned by digest).
    const rawFile = await recordedFiles(SWARM_APP, [A, B], 'swarm-raw')
    const rawEnv = childEnv({ DOCKER_HOST: host.url })
    const rawSwitch = (tag) => ['docker', 'stack', 'deploy', '--detach=false', '--resolve-image', 'never', '--with-registry-auth', '-c', rawFile[tag], SWARM_STACK]
    const check = async (tag, who) => {
      // Swarm's start-first update leaves the old task serving a moment after stack deploy returns: wait up to 10 s.
      let now = served()
      for (let i = 0; i < 40 && now !== versions[tag]; i++) {
        await new Promise((r) => setTimeout(r, 250))
        now = served()
      }
      if (now !== versions[tag]) throw new Error(`swarm: after ${who} switched to ${tag}, production serves "${now}", not "${versions[tag]}"`)
    }
    const { berthMs, rawMs } = await pairedSwitches({
      A,
      B,
      label: 'swarm',
      raw: (tag) => timed(rawSwitch(tag), { env: rawEnv }).ms,
      berth: (tag) => timed(berth('deploy', 'production', '--tag', tag, '--yes')).ms,
      resync: (tag) => sh(rawSwitch(tag), { env: rawEnv, quiet: true }),
      check,
    })
    ratioRow(FIGURES.swarm, berthMs, 'ssh:// stack deploy --detach=false', rawMs, TARGETS.swarm)
    notes.push(
      `swarm deploy --tag: berth's switch includes its preflight (swarm manager, registry, ports), the lock, waiting for every task to run and be healthy, reading each service's UpdateStatus, its HTTP probe and the record; the baseline is docker stack deploy --detach=false of the same recorded stack file, which waits for the update to converge and checks nothing else. Each switch checked by the version ${host.addr}:${SWARM_PORT} serves`,
    )
  }

  return {
    /** Both remote figures as rows of the table: measured, or skipped with the reason. */
    async figures() {
      const why = ensureHost()
      if (why) {
        for (const key of Object.keys(FIGURES)) skippedRow(FIGURES[key], why, targetText(key))
        notes.push(`remote figures skipped: ${why}`)
        return
      }
      log(`remote: second host ${host.url} is up${startedHost ? ' (started by this benchmark)' : ''}; removing leftovers of ${REMOTE_APP} on both engines`)
      touched = true
      cleanupBoth()
      const dir = setUpApp()
      const cfg = join(dir, 'deploy.yml')
      const berth = (...args) => berthArgv(...args, '--config', cfg)
      // A figure that fails is a row saying so; the benchmark goes on and exits 1 at its end (`failures`).
      const attempt = async (key, measure) => {
        try {
          await measure()
        } catch (error) {
          const first = error.message.split('\n')[0]
          log(`remote: ${FIGURES[key]} failed: ${error.message}`)
          rows.push({ figure: FIGURES[key], median: '-', range: '-', baseline: '-', ratio: '-', target: targetText(key), result: 'FAILED (see notes)' })
          notes.push(`${FIGURES[key]} failed: ${error.message.split('\n').slice(0, 6).join(' | ')}`)
          failures.push(`${FIGURES[key]}: ${first}`)
        }
      }
      await attempt('deploy', () => deployFigure(dir, berth))
      // The local side of the status figure is one more network on this engine.
      const room = await networkRoom()
      if (room < 1) skippedRow(FIGURES.status, "this engine's address pools are full", targetText('status'))
      else await attempt('status', () => statusFigure(berth))
      await attempt('swarm', () => swarmFigure())
    },

    /** The figures that failed (their rows say FAILED): the benchmark exits 1 when there are any. */
    failures,

    /** Removes what the figures created on both engines and on the host; stops the second host if it started it. */
    cleanup() {
      if (host && touched) {
        log(`remote: removing ${REMOTE_APP} from this engine and from ${host.url}, and /var/lib/berth/${REMOTE_APP} there`)
        cleanupBoth()
      }
      if (startedHost) {
        log('remote: stopping the second host this benchmark started (bash scripts/second-host.sh down)')
        sh(['bash', SECOND_HOST, 'down'], { allowFail: true })
      }
    },
  }
}
