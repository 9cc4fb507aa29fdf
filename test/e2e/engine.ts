import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect } from 'vitest'

import { namedAfter, SECOND_HOST_APPS } from './projects.js'

/** Helpers of the end-to-end suite: a real engine, the built CLI, and snapshots of engine state. */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(repoRoot, 'bin', 'run.js')

export const docker = dockerHere
function dockerHere(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

/** Fails loudly when there is no engine: e2e may only be skipped by BERTH_SKIP_E2E=1 (never set in CI). */
export function requireEngine(): void {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' })
  if (info.status !== 0) {
    throw new Error(`the end-to-end suite needs a Docker engine and none answers (${info.stderr.trim()}). Run: bash scripts/engine.sh`)
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Every output the suite saw, so one test can prove no secret ever appeared in any of it. */
export const seenOutput: string[] = []

/** `input`: what berth reads on stdin (a pipe), else no stdin at all. */
export function berth(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(input === undefined ? {} : { input }),
    timeout: 180_000,
  })
  seenOutput.push(r.stdout, r.stderr)
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** A private copy of a fixture app, so tests can change its files (version, health) freely. */
export function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-e2e-${name}-`))
  cpSync(join(repoRoot, 'test', 'fixtures', name), dir, { recursive: true })
  execFileSync('bash', [join(repoRoot, 'scripts', 'prepare-contexts.sh'), dir], { stdio: 'ignore' })
  return dir
}

/**
 * Removes everything of an app from the engine, by compose project and label only. Blue-green colours go
 * first: their containers join the stateful project's network, which `down` of that project cannot remove
 * while they are attached.
 */
export function cleanApp(app: string, envs: readonly string[]): void {
  const colour = (env: string) => (/-(blue|green)$/.test(env) ? 0 : 1)
  for (const env of [...envs].sort((a, b) => colour(a) - colour(b))) {
    spawnSync('docker', ['compose', '-p', `${app}-${env}`, 'down', '--volumes', '--remove-orphans', '--timeout', '1'], { stdio: 'ignore' })
  }
  const images = spawnSync('docker', ['image', 'ls', '--filter', `label=berth.app=${app}`, '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' })
  const refs = images.stdout.split('\n').filter((l) => l && !l.includes('<none>'))
  if (refs.length) spawnSync('docker', ['image', 'rm', '--force', ...refs], { stdio: 'ignore' })
}

/** Every file below dir (relative paths, sorted); none when dir does not exist. */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    let entries: string[]
    try {
      entries = readdirSync(d)
    } catch {
      return
    }
    for (const name of entries) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

export function hashTree(dir: string): Record<string, string> {
  return Object.fromEntries(
    filesUnder(dir).map((file) => {
      const p = join(dir, file)
      return [file, `${(statSync(p).mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`]
    }),
  )
}

/**
 * Engine state that a refused command must leave exactly as it was: containers (id, name, image, state,
 * creation), images, networks, volumes, and the release records under .berth. Of this engine, all but the
 * objects of the SECOND_HOST files' apps, which run beside (projects.ts).
 */
export function engineState(stateDir: string, docker: (...args: string[]) => string = dockerHere): Record<string, unknown> {
  const beside = SECOND_HOST_APPS.map(namedAfter)
  return engineObjects(stateDir, docker, docker === dockerHere ? (line) => !beside.some((named) => named.test(line)) : () => true)
}

/**
 * This engine's objects named after `app` (its compose projects, networks, volumes and images are all named
 * `<app>-…`), and the app's records: what a SECOND_HOST file (projects.ts) compares of this engine, since this
 * host's files change the rest of it meanwhile.
 */
export function appStateHere(stateDir: string, app: string): Record<string, unknown> {
  const named = namedAfter(app)
  return engineObjects(stateDir, dockerHere, (line) => named.test(line))
}

function engineObjects(stateDir: string, docker: (...args: string[]) => string, keep: (line: string) => boolean): Record<string, unknown> {
  const list = (...args: string[]) => docker(...args).split('\n').filter(keep).sort()
  return {
    containers: list('ps', '--all', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.CreatedAt}}'),
    images: list('image', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'),
    networks: list('network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}'),
    volumes: list('volume', 'ls', '--format', '{{.Name}}'),
    state: hashTree(stateDir),
  }
}

/** One GET on a new connection (no keep-alive), as a fresh client of the environment would send it. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
  })
}

/** Id and start time of each container of a compose project. */
export function containerStarts(project: string): string[] {
  const ids = docker('ps', '--quiet', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`).split('\n').filter(Boolean)
  return ids.map((id) => docker('inspect', '--format', '{{.Id}} {{.State.StartedAt}}', id)).sort()
}

/** A copy of the fixture app under another app name and host ports, so suites never share engine objects. */
export function copyFixtureAs(app: string, ports: { staging: number; production: number }): string {
  const dir = copyFixture('app')
  const deployYml = join(dir, 'deploy.yml')
  writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace(/^app: berthtest$/m, `app: ${app}`))
  for (const env of ['staging', 'production'] as const) {
    const file = join(dir, 'env', `${env}.env`)
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^WEB_PORT=\d+$/m, `WEB_PORT=${ports[env]}`))
  }
  return dir
}

export interface RunningCli {
  pid: number
  /** Resolves when stderr matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  kill(signal: NodeJS.Signals): void
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>
}

/** Starts the CLI in the background, for tests that interrupt or race it. */
export function startBerth(cwd: string, args: string[]): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: { pattern: RegExp; resolve: () => void }[] = []
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const w of [...waiters]) if (w.pattern.test(stderr)) w.resolve()
  })
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      seenOutput.push(stdout, stderr)
      resolve({ code: code ?? -1, signal, stdout, stderr })
    })
  })
  return {
    pid: child.pid ?? -1,
    kill: (signal) => child.kill(signal),
    done,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve()
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${stderr}`)), timeoutMs)
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) })
        void done.then(() => {
          clearTimeout(timer)
          if (pattern.test(stderr)) resolve()
          else reject(new Error(`exited before ${pattern} appeared:\n${stderr}`))
        })
      }),
  }
}

/** Runs a command that must be refused: its exit code, its message, and engine and records unchanged. */
export function expectRefused(dir: string, args: string[], code: number, message: RegExp, env: NodeJS.ProcessEnv = {}, input?: string): CliResult {
  const stateDir = join(dir, '.berth')
  const before = engineState(stateDir)
  const r = berth(dir, args, env, input)
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(code)
  expect(r.stderr).toMatch(message)
  expect(engineState(stateDir)).toEqual(before)
  return r
}

/** A private copy of every fixture app (fixtures may build from their siblings' contexts). */
export function copyFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fixtures-'))
  cpSync(join(repoRoot, 'test', 'fixtures'), dir, { recursive: true })
  execFileSync('bash', [join(repoRoot, 'scripts', 'prepare-contexts.sh'), dir], { stdio: 'ignore' })
  return dir
}

/** Runs argv as the unprivileged user nobody, without groups: what any local user of the host can do. */
export function asNobody(argv: string[]): CliResult {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv], { encoding: 'utf8', timeout: 15_000 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** The TCP ports a process listens on: its sockets' inodes found among the listening rows of this network namespace. */
export function tcpListenPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
        return m ? [m[1] as string] : []
      } catch {
        return [] // closed meanwhile
      }
    }),
  )
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.add(parseInt((f[1] ?? '').split(':')[1] ?? '', 16))
    }
  }
  return [...ports].sort((a, b) => a - b)
}
