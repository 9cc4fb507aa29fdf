import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, containerStarts, copyFixtureAs, docker, engineState, expectRefused, httpGet, repoRoot, requireEngine, seenOutput } from './engine.js'

// Its own app name and ports, so this file never collides with the core suite (berthtest, 18181/18182).
const APP = 'berthops'
const ENVS = ['staging', 'production']
const STAGING = 'http://127.0.0.1:18281'
const SECRETS = ['fixture-staging-token-4f9c', 'fixture-production-token-7b21']
const LONG = 120_000

let dir: string
const tempDirs: string[] = []
let tag = ''

/** The core fixture as berthops on ports 18281/18282, with production behind `confirm: true`. */
function opsFixture(): string {
  const d = copyFixtureAs(APP, { staging: 18281, production: 18282 })
  const deployYml = join(d, 'deploy.yml')
  const text = readFileSync(deployYml, 'utf8')
  expect(text).toContain('    env_file: env/production.env\n')
  writeFileSync(deployYml, text.replace('    env_file: env/production.env\n', '    env_file: env/production.env\n    confirm: true\n'))
  return d
}

const byProject = (kind: 'network' | 'volume', project: string) =>
  docker(kind, 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project}`).split('\n').filter(Boolean).sort()

function releases(env: string): { tag: string; status: string }[] {
  const r = berth(dir, ['releases', env, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { releases: { tag: string; status: string }[] }).releases
}

/** Engine state without the state directory: for runs that may append to the audit log (exit 5). */
function engineOnly(): Record<string, unknown> {
  const { state: _state, ...rest } = engineState(join(dir, '.berth'))
  return rest
}

describe('berth logs, compose, down and init on a real engine', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ENVS)
    dir = opsFixture()
    tempDirs.push(dir)
  })

  afterAll(() => {
    cleanApp(APP, ENVS)
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
  })

  it('deploys staging and promotes it to production with the real CLI', () => {
    const staging = berth(dir, ['deploy', 'staging'])
    expect(staging.code, staging.stderr).toBe(0)
    tag = releases('staging').find((r) => r.status === 'active')?.tag ?? ''
    expect(tag).toMatch(/^\d{8}-\d{6}(-\d+)?$/)
    const production = berth(dir, ['deploy', 'production', '--tag', tag, '--yes'])
    expect(production.code, production.stderr).toBe(0)
  }, LONG)

  it("prints an environment's logs with its secret masked and no escape codes", () => {
    const r = berth(dir, ['logs', 'staging', 'web', '--tail', '50'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/web-1 +\| web: .* for staging token=\*\*\*\*$/m)
    expect(r.stdout).not.toContain('\x1b')
    expect(r.stdout).not.toContain('for production')

    const production = berth(dir, ['logs', 'production'])
    expect(production.code, production.stderr).toBe(0)
    expect(production.stdout).toContain('for production token=****')
  })

  it('returns the masked lines in one JSON document with --json', () => {
    const r = berth(dir, ['logs', 'staging', '--json', '--tail', '5'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { environment: string; release: string; lines: string[] }
    expect(doc).toMatchObject({ environment: 'staging', release: tag })
    expect(doc.lines.some((l) => l.endsWith('token=****'))).toBe(true)
  })

  it('follows the logs with -f, masking each streamed line, until interrupted', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'run.js'), 'logs', 'staging', 'web', '-f'], {
      cwd: dir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    try {
      const deadline = Date.now() + 15_000
      while (!out.includes('token=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      // Still following: the process has not ended on its own.
      expect(child.exitCode).toBeNull()
    } finally {
      // Our own child's process group, by id: berth and the docker compose it runs.
      if (child.pid) process.kill(-child.pid, 'SIGTERM')
      await exited
    }
    seenOutput.push(out)
    expect(out).toMatch(/web: .* for staging token=\*\*\*\*/)
  }, 30_000)

  it("runs compose commands on the environment's project only, with compose's exit code", () => {
    const ps = berth(dir, ['compose', 'staging', '--', 'ps', '--format', '{{.Name}}'])
    expect(ps.code, ps.stderr).toBe(0)
    expect(ps.stdout.trim().split('\n').sort()).toEqual(['berthops-staging-store-1', 'berthops-staging-web-1'])

    const exec = berth(dir, ['compose', 'staging', '--', 'exec', '-T', 'web', 'sh', '-c', 'echo "token=$SECRET_TOKEN"; exit 7'])
    expect(exec.code).toBe(7)
    expect(exec.stdout).toBe('token=****\n')

    const config = berth(dir, ['compose', 'production', '--', 'config'])
    expect(config.code, config.stderr).toBe(0)
    expect(config.stdout).toContain('"18282"')
    expect(config.stdout).toMatch(/SECRET_TOKEN: '?\*\*\*\*/)
  })

  it.each([
    [['compose', 'staging', 'ps'], /arguments go after --/],
    [['compose', 'staging', '--'], /no compose command/],
    [['compose', 'staging', '--', '-p', 'berthops-production', 'down'], /another project/],
    [['compose', 'staging', '--', '--file=other.yaml', 'down'], /another project or other files/],
    [['compose', 'qa', '--', 'down'], /unknown environment/],
    [['logs', 'staging', 'nope'], /no service "nope"/],
    [['logs', 'staging', '-f', '--json'], /--follow/],
    [['logs', '../x'], /environment name/],
    [['down', 'production'], /requires confirmation/],
    [['down', 'qa'], /unknown environment/],
  ])('refuses %j with exit 2 and leaves the engine and records unchanged', (args, message) => {
    expectRefused(dir, args, 2, message)
  })

  it('refuses down of a locked environment with exit 5, changing nothing', () => {
    const lock = join(dir, '.berth', 'production', 'lock')
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), by: 'tester@e2e', command: 'berth deploy production', startedAt: new Date().toISOString() }))
    try {
      const before = engineOnly()
      const r = berth(dir, ['down', 'production', '--yes'])
      expect(r.code, r.stderr).toBe(5)
      expect(r.stderr).toContain('tester@e2e')
      expect(engineOnly()).toEqual(before)
      expect(releases('production').find((x) => x.tag === tag)?.status).toBe('active')
    } finally {
      rmSync(lock, { force: true })
    }
  })

  it("downs staging alone: production's containers, networks and volumes untouched; staging's volume kept", () => {
    const production = { containers: containerStarts('berthops-production'), networks: byProject('network', 'berthops-production'), volumes: byProject('volume', 'berthops-production') }
    expect(production.containers).toHaveLength(2)
    expect(production.networks).toHaveLength(1)
    expect(production.volumes).toHaveLength(1)
    const stagingVolumes = byProject('volume', 'berthops-staging')
    expect(stagingVolumes).toHaveLength(1)

    const r = berth(dir, ['down', 'staging'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`berth rollback staging --to ${tag}`)

    expect(docker('ps', '--all', '--quiet', '--filter', 'label=com.docker.compose.project=berthops-staging')).toBe('')
    expect(byProject('network', 'berthops-staging')).toEqual([])
    expect(byProject('volume', 'berthops-staging')).toEqual(stagingVolumes)
    expect({ containers: containerStarts('berthops-production'), networks: byProject('network', 'berthops-production'), volumes: byProject('volume', 'berthops-production') }).toEqual(production)

    // The release that ran is no longer active but remains the one to return to.
    expect(releases('staging').find((x) => x.tag === tag)?.status).toBe('previous')
    const status = JSON.parse(berth(dir, ['status', '--json']).stdout) as { environments: { environment: string; release?: string; services: unknown[] }[] }
    const staging = status.environments.find((e) => e.environment === 'staging')
    expect(staging?.release).toBeUndefined()
    expect(staging?.services).toEqual([])
    expect(status.environments.find((e) => e.environment === 'production')?.release).toBe(tag)

    const audit = readFileSync(join(dir, '.berth', 'staging', 'audit.log'), 'utf8').trim().split('\n')
    expect(JSON.parse(audit.at(-1) as string)).toMatchObject({ action: 'down', result: 'ok', tag, by: expect.stringContaining('@') as unknown })
    expect(existsSync(join(dir, '.berth', 'staging', 'lock'))).toBe(false)

    const logs = berth(dir, ['logs', 'staging'])
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stderr).toContain('staging has no containers')
  })

  it('brings the downed environment back with rollback, its data intact', async () => {
    const r = berth(dir, ['rollback', 'staging'])
    expect(r.code, r.stderr).toBe(0)
    expect(await httpGet(`${STAGING}/env`)).toEqual({ status: 200, body: 'staging' })
    // One boot line per start of the store: the volume outlived the down.
    expect(docker('exec', 'berthops-staging-store-1', 'cat', '/data/boots.log').split('\n')).toHaveLength(2)
  }, LONG)

  it("deletes staging's volumes with --volumes, still leaving production alone", () => {
    const production = { containers: containerStarts('berthops-production'), networks: byProject('network', 'berthops-production'), volumes: byProject('volume', 'berthops-production') }
    const r = berth(dir, ['down', 'staging', '--volumes'])
    expect(r.code, r.stderr).toBe(0)
    expect(byProject('volume', 'berthops-staging')).toEqual([])
    expect(byProject('network', 'berthops-staging')).toEqual([])
    expect({ containers: containerStarts('berthops-production'), networks: byProject('network', 'berthops-production'), volumes: byProject('volume', 'berthops-production') }).toEqual(production)
  })

  it('writes a starting project with init, and a second init refuses, changing nothing', () => {
    const project = mkdtempSync(join(tmpdir(), 'berthops-init-'))
    tempDirs.push(project)
    // berth as the project's dev dependency (npm links a local one so): the $schema line names it relative to the project.
    mkdirSync(join(project, 'node_modules'))
    symlinkSync(repoRoot, join(project, 'node_modules', 'berth'))
    const first = berth(project, ['init'])
    expect(first.code, first.stderr).toBe(0)
    const files = ['deploy.yml', 'environments/staging.env.example', 'environments/production.env.example', '.gitignore']
    for (const f of files) expect(existsSync(join(project, f)), f).toBe(true)
    const deployYml = readFileSync(join(project, 'deploy.yml'), 'utf8')
    const schema = /^# yaml-language-server: \$schema=(.+)$/m.exec(deployYml)?.[1]
    expect(schema).toBe('./node_modules/berth/schema/deploy.schema.json')
    expect(existsSync(join(project, schema as string))).toBe(true)
    expect(deployYml).toMatch(/^app: berthops-init-[a-z0-9-]+$/m)

    const snapshot = () => Object.fromEntries(files.map((f) => [f, readFileSync(join(project, f), 'utf8')]))
    const before = snapshot()
    const engineBefore = engineState(join(project, '.berth'))
    const second = berth(project, ['init'])
    expect(second.code).toBe(2)
    expect(second.stderr).toContain(join(project, 'deploy.yml'))
    expect(snapshot()).toEqual(before)
    expect(engineState(join(project, '.berth'))).toEqual(engineBefore)
  })

  it('never printed a secret value', () => {
    const all = seenOutput.join('\n')
    for (const secret of SECRETS) expect(all).not.toContain(secret)
  })
})
