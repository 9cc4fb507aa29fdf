import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { copyFixtureAs, engineState, repoRoot } from './engine.js'

/**
 * The second Docker host of the end-to-end suite (scripts/second-host.sh, ../shared/ENGINE.md): a network
 * namespace with its own dockerd, reached by berth over SSH as HOST_B, and by the tests directly on its socket.
 */
export const HOST_B = 'ssh://root@10.231.0.2'
export const HOST_B_ADDR = '10.231.0.2'
export const HOST_B_SOCKET = 'unix:///run/docker-b.sock'
const SSHD_PID = '/run/berth-host-b/sshd.pid'
/** SPEC §10: an app's state on an ssh:// host. The namespace shares this machine's file system. */
export const HOST_STATE_ROOT = '/var/lib/berth'
/** Where the second host's registry (scripts/second-host.sh) keeps its repositories. */
export const REGISTRY_ROOT_B = '/var/lib/berth-host-b/registry'

/** docker against the second host's engine, straight on its socket (not through berth's connection). */
export function dockerB(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } }).trim()
}

/** Fails loudly when the second host is not up: npm test starts it (as root); e2e may only be skipped by BERTH_SKIP_E2E=1. */
export function requireHostB(): void {
  const status = spawnSync('bash', [join(repoRoot, 'scripts', 'second-host.sh'), 'status'], { encoding: 'utf8' })
  if (status.status !== 0) throw new Error(`the remote-engine tests need the second host (${status.stdout.trim()}). Run as root: bash scripts/second-host.sh up`)
}

/** Removes everything of an app from the second host, by compose project and label only, and its state there. */
export function cleanAppB(app: string, envs: readonly string[]): void {
  const env = { ...process.env, DOCKER_HOST: HOST_B_SOCKET }
  const colour = (e: string) => (/-(blue|green)$/.test(e) ? 0 : 1)
  for (const e of [...envs].sort((a, b) => colour(a) - colour(b))) {
    spawnSync('docker', ['compose', '-p', `${app}-${e}`, 'down', '--volumes', '--remove-orphans', '--timeout', '1'], { stdio: 'ignore', env })
  }
  const images = spawnSync('docker', ['image', 'ls', '--filter', `label=berth.app=${app}`, '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8', env })
  const refs = images.stdout.split('\n').filter((l) => l && !l.includes('<none>'))
  if (refs.length) spawnSync('docker', ['image', 'rm', '--force', ...refs], { stdio: 'ignore', env })
  rmSync(join(HOST_STATE_ROOT, app), { recursive: true, force: true })
}

/** The second host's sshd pid (the unreachable-host test stops it by this pid, then starts it again). */
export function sshdPid(): number {
  return Number(readFileSync(SSHD_PID, 'utf8').trim())
}

/** Starts whatever of the second host is not running (its sshd, after a test stopped it). */
export function startSecondHost(): void {
  execFileSync('bash', [join(repoRoot, 'scripts', 'second-host.sh'), 'up'], { stdio: 'ignore' })
}

/** What the second host holds for the refusal tests' before/after comparison, with the app's state there. */
export function engineStateB(app: string): Record<string, unknown> {
  return engineState(join(HOST_STATE_ROOT, app), dockerB)
}

/** The pids of the SSH ControlMasters a berth process started (its children running `ssh -M`). */
export function sshMastersOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (ppid === pid && argv[0] === 'ssh' && argv.includes('-M')) out.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** Production on the second host; the fixture's web takes STARTUP_DELAY from the env file (a slow start). */
export function remoteFixture(app: string, ports: { staging: number; production: number }): string {
  const copy = copyFixtureAs(app, ports)
  const deployYml = join(copy, 'deploy.yml')
  writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace(/^  production:\n/m, `  production:\n    host: ${HOST_B}\n    connect_timeout: 5s\n`))
  const compose = join(copy, 'compose.yaml')
  // A web that starts slowly stays "starting" rather than unhealthy for its first 15 s.
  const text = readFileSync(compose, 'utf8')
    .replace('      SECRET_TOKEN: ${SECRET_TOKEN}\n', '      SECRET_TOKEN: ${SECRET_TOKEN}\n      STARTUP_DELAY: ${STARTUP_DELAY:-0}\n')
    .replace(/(test: \["CMD", "wget", "-qO-", "http:\/\/127\.0\.0\.1:8080\/health"\][\s\S]*?start_period: )1s/, '$115s')
  if (!text.includes('start_period: 15s')) throw new Error('the fixture compose file changed: remoteFixture cannot slow its web')
  writeFileSync(compose, text)
  return copy
}
