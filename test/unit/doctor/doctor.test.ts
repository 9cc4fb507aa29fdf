import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import { doctor, doctorExitCode } from '../../../src/doctor/doctor.js'
import { type ReleaseRecord, releasesPath, writeReleases } from '../../../src/state/releases.js'
import { localFiles } from '../../../src/target/files.js'
import { localState, localTarget } from '../../../src/target/local.js'
import type { Files } from '../../../src/target/files.js'
import type { Target } from '../../../src/target/target.js'
import { EngineUnavailableError } from '../../../src/errors.js'
import { inspectRestartPolicies } from '../../../src/docker/docker.js'
import type { Runner, RunOptions, RunResult } from '../../../src/docker/runner.js'
import { formatDoctor } from '../../../src/ui/format.js'
import { environmentConfig } from '../fixtures.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'
import { type Check } from '../../../src/doctor/check.js'
import { testDeps } from '../support/deps.js'
import { composeLabels, psLine } from '../support/ps.js'

const TAG = '20261122-093000'

const env = (name: string, dir = '/srv/shop'): EnvironmentConfig => environmentConfig(name, dir)

describe('doctorExitCode', () => {
  const check = (id: Check['id'], status: Check['status']): Check => ({ id, status, summary: '', details: [] })
  it('is 0 with warnings, 1 with a failed check, 6 when the engine or Compose is unavailable', () => {
    expect(doctorExitCode([check('engine', 'ok'), check('drift', 'warn')])).toBe(0)
    expect(doctorExitCode([check('engine', 'ok'), check('env-files', 'fail')])).toBe(1)
    expect(doctorExitCode([check('engine', 'ok'), check('compose', 'fail'), check('env-files', 'fail')])).toBe(6)
  })
})

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  return child.pid as number
}

function fakeRun(answers: [needle: string, result: Partial<RunResult>][]) {
  const calls: string[][] = []
  const run = async (argv: readonly string[], _options?: RunOptions): Promise<RunResult> => {
    calls.push([...argv])
    const line = argv.join(' ')
    const hit = answers.find(([needle]) => line.includes(needle))
    if (!hit) throw new Error(`unscripted command: ${line}`)
    return { stdout: '', stderr: '', exitCode: 0, ...hit[1] }
  }
  return { run, calls }
}

describe('doctor', () => {
  let dir: string
  let config: Config

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-doctor-'))
    config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', env('staging', dir)], ['production', env('production', dir)]]) }
    await mkdir(join(dir, 'environments'))
    for (const name of ['staging', 'production']) {
      await writeFile(join(dir, 'environments', `${name}.env`), 'WEB_PORT=8080\n')
      await chmod(join(dir, 'environments', `${name}.env`), 0o600)
    }
    const record: ReleaseRecord = { tag: TAG, deployedAt: '2026-11-22T09:30:00.000Z', by: 'a@b', status: 'active', images: { web: `shop-web:${TAG}` }, builtImages: [`shop-web:${TAG}`], envHash: 'x', configFile: `${TAG}.compose.yaml`, configHashes: { web: 'a'.repeat(64) } }
    await writeReleases(localState(config.stateDir), 'staging', [record])
    await localFiles.writeAtomic(join(config.stateDir, 'staging', 'releases', `${TAG}.compose.yaml`), 'services:\n  web:\n    image: shop-web:20261122-093000\n    restart: unless-stopped\n    ports:\n      - target: 8080\n        published: "8080"\n')
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reports every check from one ps and one inspect, whatever the number of environments; exit 1 on a failed check', async () => {
    await chmod(join(dir, 'environments', 'staging.env'), 0o644)
    await writeFile(join(config.stateDir, 'staging', 'lock'), JSON.stringify({ pid: await deadPid(), host: hostname(), by: 'a@b', command: 'berth deploy staging', startedAt: '2026-11-22T09:00:00Z' }))
    const web = { ...composeLabels('shop-staging', 'web'), 'berth.app': 'shop', 'berth.env': 'staging', 'berth.release': TAG }
    const { run, calls } = fakeRun([
      ['docker version', { stdout: JSON.stringify({ Server: { Version: '20.10.24' } }) }],
      ['docker compose version', { stdout: JSON.stringify({ version: '2.26.1' }) }],
      ['docker ps', { stdout: [psLine('shop-staging-web-1', web, { Image: `shop-web:${TAG}` }), psLine('shop-web-manual', { 'berth.app': 'shop' }, { Image: `shop-web:${TAG}` })].join('\n') }],
      ['docker inspect', { stdout: '{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"unless-stopped"}' }],
      ['docker network ls', { stdout: 'bridge\nhost\nnone\n' }],
      ['docker network inspect', { stdout: '{"name":"bridge","ipam":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]}\n' }],
      // Free space is the host's own: unit tests only see that a failed `docker info` leaves disk unchecked
      // (and the address pools are then Docker's built-in ones).
      ['docker info', { exitCode: 1 }],
    ])
    const report = await doctor(config, testDeps({ run, stateDir: config.stateDir }))
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toEqual({
      engine: 'ok',
      compose: 'ok',
      'restart-policies': 'ok',
      unmanaged: 'warn',
      drift: 'ok',
      ports: 'ok',
      'shared-networks': 'ok',
      'network-pools': 'ok',
      'env-files': 'fail',
      locks: 'warn',
      state: 'ok',
      disk: 'warn',
    })
    expect(report.exitCode).toBe(1)
    expect(report.unmanaged.map((u) => u.command)).toEqual(['docker rm -f shop-web-manual && berth deploy ENV'])
    expect(calls.filter((c) => c[1] === 'ps')).toHaveLength(1)
    expect(calls.filter((c) => c[1] === 'inspect')).toEqual([inspectRestartPolicies(SHELL_ENGINE, ['shop-staging-web-1-id'])])
    expect(calls.filter((c) => c[1] === 'compose' && c.includes('config'))).toHaveLength(0)

    const text = formatDoctor(report)
    expect(text).toMatch(/^FAIL\s+env-files\s+1 env file readable by other users$/m)
    expect(text).toContain(`hint: chmod 600 ${join(dir, 'environments', 'staging.env')}`)
    expect(text).toMatch(/^WARN\s+locks\s+1 stale lock$/m)
    expect(text.trimEnd().split('\n').pop()).toBe('1 failed, 3 warnings, 8 ok')
  })

  it.each([
    ['cut short', (text: string) => text.slice(0, 80)],
    ['of the wrong shape', () => '[{"tag": 5}]'],
    ['empty', () => ''],
  ])('fails the state check on release records %s, still runs every other check, and exits 1', async (_name, damage) => {
    const path = releasesPath(config.stateDir, 'staging')
    await writeFile(path, damage(await readFile(path, 'utf8')))
    const { run } = fakeRun([
      ['docker version', { stdout: JSON.stringify({ Server: { Version: '20.10.24' } }) }],
      ['docker compose version', { stdout: JSON.stringify({ version: '2.26.1' }) }],
      ['docker ps', { stdout: psLine('shop-staging-web-1', { ...composeLabels('shop-staging', 'web'), 'berth.app': 'shop', 'berth.env': 'staging' }, { Image: `shop-web:${TAG}` }) }],
      ['docker inspect', { stdout: '{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"unless-stopped"}' }],
      ['docker network ls', { stdout: 'bridge\n' }],
      ['docker network inspect', { stdout: '{"name":"bridge","ipam":[{"Subnet":"172.17.0.0/16"}]}\n' }],
      ['docker info', { exitCode: 1 }],
    ])
    const report = await doctor(config, testDeps({ run, stateDir: config.stateDir }))
    const state = report.checks.find((c) => c.id === 'state')
    expect(state).toMatchObject({ status: 'fail', details: [expect.stringMatching(new RegExp(`^staging: ${path}: `))], hint: `staging: Restore the last good copy berth kept: cp ${path}.last-good ${path}` })
    expect(report.checks.map((c) => c.id)).toEqual(['engine', 'compose', 'restart-policies', 'unmanaged', 'drift', 'ports', 'shared-networks', 'network-pools', 'env-files', 'locks', 'state', 'disk'])
    // Without records there is nothing to compare staging's containers with: no drift is made up.
    expect(report.drift.map((d) => d.environment)).toEqual(['production'])
    expect(report.checks.find((c) => c.id === 'drift')?.status).toBe('ok')
    expect(report.exitCode).toBe(1)
    expect(formatDoctor(report)).toMatch(/^FAIL\s+state\s+1 damaged state file \(staging\)/m)
  })

  it('reports a damaged lock under the state check, not as a lock to take over', async () => {
    await writeFile(join(config.stateDir, 'staging', 'lock'), '{"pid": "x"}')
    const daemonDown = { exitCode: 1, stderr: 'Cannot connect to the Docker daemon' }
    const report = await doctor(config, testDeps({ stateDir: config.stateDir, run: fakeRun([['docker version', daemonDown], ['docker compose version', daemonDown]]).run }))
    expect(report.checks.find((c) => c.id === 'locks')).toMatchObject({ status: 'ok', summary: 'no environment is locked' })
    expect(report.checks.find((c) => c.id === 'state')).toMatchObject({ status: 'fail', details: [expect.stringMatching(/staging: .*lock: pid: expected a process id; host: is required/)] })
  })

  it('still checks env files, locks and recorded ports when the engine is down, and exits 6', async () => {
    const daemonDown = { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' }
    const { run, calls } = fakeRun([['docker version', daemonDown], ['docker compose version', daemonDown]])
    const report = await doctor(config, testDeps({ run, stateDir: config.stateDir }))
    expect(report.exitCode).toBe(6)
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['engine', 'fail'],
      ['compose', 'warn'],
      ['restart-policies', 'warn'],
      ['unmanaged', 'warn'],
      ['drift', 'warn'],
      ['ports', 'ok'],
      ['shared-networks', 'warn'],
      ['network-pools', 'warn'],
      ['env-files', 'ok'],
      ['locks', 'ok'],
      ['state', 'ok'],
      ['disk', 'warn'],
    ])
    // Compose is not asked either (its cached version is keyed by the engine's ID); nothing else is asked of an engine that does not answer.
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['docker version --format'])
  })
})

const REMOTE = 'ssh://deploy@10.0.0.5'

/** An engine that is not the shell's, as the SSH target is to doctor: its own runner, state store and description. */
function remoteTarget(stateDir: string, run: Runner, files?: Files): Target {
  const base = localTarget({ stateDir, run })
  return { ...base, description: REMOTE, ...(files ? { state: { ...base.state, files } } : {}) }
}

/** The answers of an engine whose environments' containers are `ps`. */
function engineAnswers(ps: string[]): [string, Partial<RunResult>][] {
  return [
    ['docker version', { stdout: JSON.stringify({ Server: { Version: '20.10.24' } }) }],
    ['docker compose version', { stdout: JSON.stringify({ version: '2.26.1' }) }],
    ['docker ps', { stdout: ps.join('\n') }],
    ['docker inspect', { stdout: ps.map((l) => JSON.stringify({ id: (JSON.parse(l) as { ID: string }).ID, name: '/x', restart: 'unless-stopped' })).join('\n') }],
    ['docker network ls', { stdout: 'bridge\n' }],
    ['docker network inspect', { stdout: '{"name":"bridge","ipam":[{"Subnet":"172.17.0.0/16"}]}\n' }],
    ['docker info', { exitCode: 1 }],
  ]
}

const LOCAL_IDS = ['engine', 'compose', 'restart-policies', 'unmanaged', 'drift', 'ports', 'shared-networks', 'network-pools', 'env-files', 'locks', 'state', 'disk']

describe('doctor across engines (SPEC §10)', () => {
  let dir: string
  let config: Config
  const record: ReleaseRecord = { tag: TAG, deployedAt: '2026-11-22T09:30:00.000Z', by: 'a@b', status: 'active', images: { web: `shop-web:${TAG}` }, builtImages: [`shop-web:${TAG}`], envHash: 'x', configFile: `${TAG}.compose.yaml`, configHashes: { web: 'a'.repeat(64) } }
  const model = `services:\n  web:\n    image: shop-web:${TAG}\n    restart: unless-stopped\n`
  const webOf = (env: string, hash = 'a'.repeat(64)) =>
    psLine(`shop-${env}-web-1`, { ...composeLabels(`shop-${env}`, 'web'), 'com.docker.compose.config-hash': hash, 'berth.app': 'shop', 'berth.env': env, 'berth.release': TAG }, { Image: `shop-web:${TAG}` })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-doctor-engines-'))
    config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', env('staging', dir)], ['production', env('production', dir)]]) }
    await mkdir(join(dir, 'environments'))
    for (const name of ['staging', 'production']) {
      await writeFile(join(dir, 'environments', `${name}.env`), 'WEB_PORT=8080\n')
      await chmod(join(dir, 'environments', `${name}.env`), 0o600)
    }
    for (const [stateDir, name] of [[config.stateDir, 'staging'], [join(dir, 'host'), 'production']] as const) {
      await writeReleases(localState(stateDir), name, [record])
      await localFiles.writeAtomic(join(stateDir, name, 'releases', record.configFile), model)
    }
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** staging on the shell's engine (scripted by `local`), production on the remote one. */
  function engines(local: ReturnType<typeof fakeRun>, remote: Target) {
    const target = localTarget({ run: local.run, stateDir: config.stateDir })
    return testDeps({ run: local.run, target, targetOf: (e) => (e.name === 'production' ? remote : target) })
  }

  it('checks each engine on its own listing, and every finding of the remote one names it', async () => {
    // Production's lock was taken on another machine; its web was recreated by hand on the host; a container started there by hand.
    await writeFile(join(dir, 'host', 'production', 'lock'), JSON.stringify({ pid: 4242, host: 'laptop', by: 'bob@laptop', command: 'berth deploy production', startedAt: '2026-11-22T09:00:00Z' }))
    const local = fakeRun(engineAnswers([webOf('staging')]))
    const remote = fakeRun(engineAnswers([webOf('production', 'b'.repeat(64)), psLine('shop-web-manual', { 'berth.app': 'shop' }, { Image: `shop-web:${TAG}` })]))
    const report = await doctor(config, engines(local, remoteTarget(join(dir, 'host'), remote.run)))

    expect(report.checks.map((c) => [c.id, c.engine])).toEqual([...LOCAL_IDS.map((id) => [id, undefined]), ...LOCAL_IDS.filter((id) => id !== 'env-files').map((id) => [id, REMOTE])])
    expect(report.checks.slice(0, LOCAL_IDS.length).every((c) => !('engine' in c))).toBe(true)
    const remoteCheck = (id: string) => report.checks.find((c) => c.id === id && c.engine === REMOTE)
    expect(remoteCheck('drift')).toMatchObject({ status: 'warn', details: [expect.stringMatching(/^production: web shop-production-web-1: config differs/)] })
    expect(remoteCheck('unmanaged')).toMatchObject({ status: 'warn', details: [expect.stringContaining('shop-web-manual')] })
    expect(remoteCheck('locks')).toMatchObject({ status: 'warn', details: [expect.stringContaining('production: locked on host laptop')] })
    expect(report.checks.filter((c) => !c.engine && c.status !== 'ok').map((c) => c.id)).toEqual(['disk'])
    expect(report.drift.map((d) => [d.environment, d.engine, d.drift.length])).toEqual([['staging', undefined, 0], ['production', REMOTE, 1]])
    expect(report.unmanaged).toMatchObject([{ name: 'shop-web-manual', engine: REMOTE }])
    expect(report.exitCode).toBe(0)
    // One listing per engine, each on its own.
    expect([local, remote].map((r) => r.calls.filter((c) => c[1] === 'ps').length)).toEqual([1, 1])

    const text = formatDoctor(report)
    expect(text).toMatch(/^ok\s+drift\s+1 environment runs as recorded$/m)
    expect(text).toMatch(new RegExp(`^WARN\\s+drift\\s+on ${REMOTE}: production differs from the active release record$`, 'm'))
    expect(text).toMatch(new RegExp(`^WARN\\s+locks\\s+on ${REMOTE}: 1 lock taken on another host$`, 'm'))
  })

  it('reports a host it cannot reach as one failed finding naming it, checks the other engine, and exits 6', async () => {
    const local = fakeRun(engineAnswers([webOf('staging')]))
    const unreachable = new EngineUnavailableError(`cannot reach ${REMOTE}: the connection was refused (is sshd running there, on that port?)`, undefined, 'HOST_UNREACHABLE')
    const refused: Runner = async () => Promise.reject(unreachable)
    // Nothing of the host is read: its state store is behind the same connection.
    const noFiles = new Proxy({} as Files, { get: () => async () => Promise.reject(new Error('the host was read')) })
    const report = await doctor(config, engines(local, remoteTarget(join(dir, 'host'), refused, noFiles)))

    expect(report.checks.slice(0, LOCAL_IDS.length).map((c) => [c.id, c.status])).toEqual(LOCAL_IDS.map((id) => [id, id === 'disk' ? 'warn' : 'ok']))
    expect(report.checks.slice(LOCAL_IDS.length)).toEqual([
      { id: 'engine', status: 'fail', engine: REMOTE, summary: unreachable.message, details: ['production runs there: not checked'], hint: unreachable.hint },
    ])
    expect(report.exitCode).toBe(6)
    expect(formatDoctor(report)).toMatch(new RegExp(`^FAIL\\s+engine\\s+on ${REMOTE}: cannot reach ${REMOTE}: the connection was refused`, 'm'))
  })

  it('asks nothing of the shell\'s engine when no environment runs there', async () => {
    const unused = fakeRun([])
    const remote = fakeRun(engineAnswers([webOf('staging'), webOf('production')]))
    await writeReleases(localState(join(dir, 'host')), 'staging', [record])
    await localFiles.writeAtomic(join(dir, 'host', 'staging', 'releases', record.configFile), model)
    const target = remoteTarget(join(dir, 'host'), remote.run)
    const report = await doctor(config, testDeps({ run: unused.run, stateDir: config.stateDir, targetOf: () => target }))
    expect(unused.calls).toEqual([])
    // The env files are the operator's: checked once, named by no engine, where they always stood.
    expect(report.checks.map((c) => [c.id, c.engine])).toEqual(LOCAL_IDS.map((id) => [id, id === 'env-files' ? undefined : REMOTE]))
    expect(report.checks.find((c) => c.id === 'state')?.summary).toBe('the state files of 2 environments read as they should')
  })
})
