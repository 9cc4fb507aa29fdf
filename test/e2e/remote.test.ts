import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, docker, appStateHere, httpGet, requireEngine, startBerth } from './engine.js'
import { cleanAppB, dockerB, engineStateB, HOST_B, HOST_B_ADDR, HOST_B_SOCKET, HOST_STATE_ROOT, remoteFixture, requireHostB } from './hostB.js'

/**
 * SPEC §10 on a real second host: staging on this machine's engine, production on the second host's, reached
 * over SSH. Each runs where deploy.yml says, with the same health gate, rollback and records as a local one;
 * its state lives on the host.
 */

const APP = 'berthremote'
const ENVS = ['staging', 'production']
const PORTS = { staging: 18881, production: 18882 }
const SECRET = 'fixture-production-token-7b21'
let dir: string
let version = 0

function bumpVersion(): string {
  writeFileSync(join(dir, 'web', 'www', 'version'), `v${++version}\n`)
  return `v${version}`
}

function releases(env: string): { tag: string; status: string; images: Record<string, string> }[] {
  return (JSON.parse(berth(dir, ['releases', env, '--json']).stdout) as { releases: { tag: string; status: string; images: Record<string, string> }[] }).releases
}

function projects(run: (...args: string[]) => string): string[] {
  return [...new Set(run('ps', '--all', '--filter', `label=berth.app=${APP}`, '--format', '{{.Label "com.docker.compose.project"}}').split('\n').filter(Boolean))].sort()
}

/** The argv (spaces for NULs) of every process of this machine, and so of the second host's, holding one of `forms`. */
function argvsWith(forms: readonly string[]): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (forms.some((form) => argv.includes(form))) found.push(argv.replace(/\0/g, ' '))
    } catch {
      // gone meanwhile
    }
  }
  return found
}

async function body(url: string): Promise<string> {
  return (await httpGet(url)).body.trim()
}

describe('an environment on another host, over SSH', () => {
  beforeAll(() => {
    requireEngine()
    requireHostB()
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
    dir = remoteFixture(APP, PORTS)
  }, 120_000)

  afterAll(() => {
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
  }, 120_000)

  it('runs staging here and production on the second host, side by side, each named with its engine', async () => {
    const v = bumpVersion()
    const staging = berth(dir, ['deploy', 'staging'])
    expect(staging.code, staging.stderr).toBe(0)
    const production = berth(dir, ['deploy', 'production'])
    expect(production.code, production.stderr).toBe(0)
    // The first progress line names the engine (a warning of the env file's mode may come before any step).
    expect(production.stderr.split('\n').find((line) => !line.includes('[warn]'))).toMatch(/check production configuration on ssh:\/\/root@10\.231\.0\.2$/)

    expect(projects(docker)).toEqual([`${APP}-staging`])
    expect(projects(dockerB)).toEqual([`${APP}-production`])
    expect(await body(`http://127.0.0.1:${PORTS.staging}/version`)).toBe(v)
    expect(await body(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).toBe(v)
    // Production's port is the second host's: nothing of it listens here.
    await expect(httpGet(`http://127.0.0.1:${PORTS.production}/version`)).rejects.toThrow()

    const status = berth(dir, ['status'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`^staging \\(${APP}-staging\\) on the local engine: release \\d{8}-\\d{6}`, 'm'))
    expect(status.stdout).toMatch(new RegExp(`^production \\(${APP}-production\\) on ssh://root@10\\.231\\.0\\.2: release \\d{8}-\\d{6}`, 'm'))
  }, 120_000)

  it("keeps production's lock, records, configs and audit log on its host, private (SPEC §7 modes), and none of it here", () => {
    const onHost = join(HOST_STATE_ROOT, APP, 'production')
    for (const name of ['releases.json', 'audit.log']) {
      expect(statSync(join(onHost, name)).mode & 0o777).toBe(0o600)
    }
    expect(statSync(onHost).mode & 0o777).toBe(0o700)
    expect(readdirSync(join(onHost, 'releases')).filter((f) => f.endsWith('.compose.yaml'))).toHaveLength(1)
    expect(existsSync(join(onHost, 'lock'))).toBe(false)
    expect(existsSync(join(dir, '.berth', 'production', 'releases.json'))).toBe(false)
    expect(existsSync(join(dir, '.berth', 'staging', 'releases.json'))).toBe(true)
    const [record] = releases('production')
    // The images run on the host are the release's own, built there.
    expect(dockerB('inspect', '--format', '{{.Config.Image}}', `${APP}-production-web-1`)).toBe(record?.images.web)
  }, 120_000)

  it('rolls production back on its host, and rolls back automatically a release that is not healthy there', async () => {
    const [first] = releases('production')
    const v = bumpVersion()
    expect(berth(dir, ['deploy', 'production']).code).toBe(0)
    expect(await body(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).toBe(v)

    const back = berth(dir, ['rollback', 'production', '--to', first?.tag ?? ''])
    expect(back.code, back.stderr).toBe(0)
    expect(await body(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).toBe(`v${version - 1}`)

    // A release whose web never answers /health: the probe is sent from the host, through the connection.
    rmSync(join(dir, 'web', 'www', 'health'))
    bumpVersion()
    try {
      const failed = berth(dir, ['deploy', 'production'])
      expect(failed.code, failed.stderr).toBe(3)
      expect(failed.stderr).toMatch(/http:\/\/127\.0\.0\.1:18882\/health/)
      expect(failed.stderr).toMatch(/rolled back to \d{8}-\d{6}, which is healthy/)
    } finally {
      writeFileSync(join(dir, 'web', 'www', 'health'), 'ok\n')
    }
    expect(await body(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).toBe(`v${version - 2}`)
    expect(releases('production')[0]?.status).toBe('failed')
  }, 120_000)

  it('refuses bad input with nothing changed on either engine', () => {
    const envFile = join(dir, 'env', 'production.env')
    const original = readFileSync(envFile, 'utf8')
    const before = { here: appStateHere(join(dir, '.berth'), APP), hostB: engineStateB(APP) }
    writeFileSync(envFile, original.replace(/^SECRET_TOKEN=.*$/m, 'SECRET_TOKEN='))
    try {
      const missing = berth(dir, ['deploy', 'production'])
      expect(missing.code, missing.stderr).toBe(2)
      expect(missing.stderr).toContain('SECRET_TOKEN')
    } finally {
      writeFileSync(envFile, original)
    }
    const unknownTag = berth(dir, ['rollback', 'production', '--to', '20200101-000000'])
    expect(unknownTag.code, unknownTag.stderr).toBe(2)
    expect({ here: appStateHere(join(dir, '.berth'), APP), hostB: engineStateB(APP) }).toEqual(before)
  }, 120_000)

  it('reaches the host through a Docker context too: an ssh:// one as host: is (its state on the host), another with docker --context', () => {
    const contexts = { ssh: 'berth-e2e-hostb-ssh', socket: 'berth-e2e-hostb-socket' }
    execFileSync('docker', ['context', 'create', contexts.ssh, '--docker', `host=${HOST_B}`], { stdio: 'ignore' })
    execFileSync('docker', ['context', 'create', contexts.socket, '--docker', `host=${HOST_B_SOCKET}`], { stdio: 'ignore' })
    try {
      const viaContext = (name: string) => {
        const file = join(dir, `${name}.yml`)
        writeFileSync(file, readFileSync(join(dir, 'deploy.yml'), 'utf8').replace(/^    host: .*\n    connect_timeout: .*$/m, `    context: ${name}`))
        return berth(dir, ['status', 'production', '-c', file])
      }
      const ssh = viaContext(contexts.ssh)
      expect(ssh.code, ssh.stderr).toBe(0)
      expect(ssh.stdout).toMatch(new RegExp(`^production \\(${APP}-production\\) on ssh://root@10\\.231\\.0\\.2 \\(context ${contexts.ssh}\\): release \\d{8}-\\d{6}`, 'm'))
      // Not ssh://: docker --context; the engine is the same host's, the state is this checkout's (none for production).
      const socket = viaContext(contexts.socket)
      expect(socket.code, socket.stderr).toBe(0)
      expect(socket.stdout).toMatch(new RegExp(`^production \\(${APP}-production\\) on context ${contexts.socket}: no release deployed$`, 'm'))
      expect(socket.stdout).toMatch(/^  web +running +healthy/m)
    } finally {
      execFileSync('docker', ['context', 'rm', '--force', contexts.ssh, contexts.socket], { stdio: 'ignore' })
    }
  }, 120_000)

  it("ignores, with a warning, a shell DOCKER_HOST that disagrees with production's host", () => {
    const r = berth(dir, ['status', 'production'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('DOCKER_HOST=unix:///nonexistent/docker.sock of this shell is ignored for production: deploy.yml runs it on ssh://root@10.231.0.2')
    expect(r.stdout).toMatch(/production .* on ssh:\/\/root@10\.231\.0\.2: release/)
  }, 120_000)

  it("never shows the env file's secrets in the argv of any process on either machine during a remote deploy", async () => {
    const envFile = join(dir, 'env', 'production.env')
    const original = readFileSync(envFile, 'utf8')
    writeFileSync(envFile, `${original}STARTUP_DELAY=3\n`)
    bumpVersion()
    const forms = [SECRET, Buffer.from(SECRET).toString('base64').slice(0, 24)]
    // The scan sees a process that does show it (so an empty result below means something).
    const decoy = spawn('sh', ['-c', 'sleep 5', `x${forms[1]}`], { stdio: 'ignore' })
    await sleep(100)
    expect(argvsWith(forms)).toEqual([`sh -c sleep 5 x${forms[1]} `])
    decoy.kill()
    const seen = new Set<string>()
    try {
      const run = startBerth(dir, ['deploy', 'production'])
      let done = false
      void run.done.then(() => (done = true))
      // The second host is a network namespace of this machine: one /proc shows the processes of both.
      while (!done) {
        for (const argv of argvsWith(forms)) seen.add(argv)
        await sleep(25)
      }
      const result = await run.done
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout + result.stderr).not.toContain(SECRET)
    } finally {
      writeFileSync(envFile, original)
    }
    expect([...seen]).toEqual([])
  }, 120_000)

  it("keeps production's releases (and their images on the host) to releases.keep, as a local environment's", () => {
    const before = releases('production')
    bumpVersion()
    const r = berth(dir, ['deploy', 'production'])
    expect(r.code, r.stderr).toBe(0)
    const kept = releases('production')
    // keep: 3 — the newest three, the active one among them and the one it replaced.
    expect(kept.map((k) => k.tag)).toEqual([r.stdout.match(/release (\d{8}-\d{6})/)?.[1], ...before.slice(0, 2).map((k) => k.tag)])
    expect(r.stderr).toMatch(/retention: dropped /)
    const tags = new Set(kept.map((r) => r.tag))
    const images = dockerB('image', 'ls', '--filter', `label=berth.app=${APP}`, '--format', '{{.Tag}}').split('\n').filter(Boolean)
    expect(images.length).toBeGreaterThan(0)
    for (const tag of images) expect(tags.has(tag), `image tag ${tag} of no kept release`).toBe(true)
  }, 120_000)
})
