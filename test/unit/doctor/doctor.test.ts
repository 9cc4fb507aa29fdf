import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { ComposeModel } from '../../../src/release/model.js'
import type { Deps } from '../../../src/run/context.js'
import {
  type ActiveRelease,
  diskCheckOf,
  doctor,
  doctorExitCode,
  engineChecks,
  envFileCheck,
  lockCheck,
  MIN_FREE_BYTES,
  portCheck,
  restartCheck,
  stateCheck,
} from '../../../src/doctor/doctor.js'
import type { LockInfo } from '../../../src/state/lock.js'
import { type ReleaseRecord, releasesPath, writeReleases } from '../../../src/state/releases.js'
import { inspectRestartPolicies } from '../../../src/docker/docker.js'
import { parsePs, parseRestartPolicies } from '../../../src/docker/parse.js'
import type { RunOptions, RunResult } from '../../../src/docker/runner.js'
import { EngineUnavailableError } from '../../../src/errors.js'
import { silentReporter } from '../../../src/progress.js'
import { formatDoctor } from '../../../src/ui/format.js'
import { environmentConfig } from '../fixtures.js'
import { localTarget } from '../../../src/target/local.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'
import { type Check } from '../../../src/doctor/check.js'
import { localState } from '../../../src/target/local.js'
import { localFiles } from '../../../src/target/files.js'

const TAG = '20261122-093000'

const env = (name: string, dir = '/srv/shop'): EnvironmentConfig => environmentConfig(name, dir)

function psLine(name: string, labels: Record<string, string>, over: Record<string, string> = {}): string {
  return JSON.stringify({
    ID: `${name}-id`,
    Names: name,
    Image: 'img',
    State: 'running',
    Status: 'Up 5 minutes',
    Ports: '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: '2026-11-22 09:30:05 +0000 UTC',
    ...over,
  })
}

const composeLabels = (project: string, service: string) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.oneoff': 'False',
  'com.docker.compose.config-hash': 'a'.repeat(64),
})

const model = (services: ComposeModel['services']): ComposeModel => ({ services })

describe('engineChecks', () => {
  it('passes both when the engine answers and Compose v2 is recent', () => {
    expect(engineChecks({ server: '20.10.24', compose: '2.26.1' }).map((c) => [c.id, c.status, c.summary])).toEqual([
      ['engine', 'ok', 'Docker Engine 20.10.24 answers'],
      ['compose', 'ok', 'Docker Compose 2.26.1'],
    ])
  })

  it('fails compose only when Compose is v1 or missing, with the hint of every command', () => {
    const [engine, compose] = engineChecks(new EngineUnavailableError('Docker Compose v2 (`docker compose`) is not installed', 'Install the Compose v2 CLI plugin.', 'COMPOSE_MISSING'))
    expect(engine?.status).toBe('ok')
    expect(compose).toMatchObject({ status: 'fail', hint: 'Install the Compose v2 CLI plugin.' })
  })

  it('fails the engine and leaves compose unchecked when the engine does not answer', () => {
    expect(engineChecks(new EngineUnavailableError('the Docker engine does not answer', 'Start dockerd')).map((c) => c.status)).toEqual(['fail', 'warn'])
  })
})

describe('restartCheck', () => {
  const actives: ActiveRelease[] = [
    {
      env: env('staging'),
      model: model({
        web: { restart: 'unless-stopped', depends_on: { migrate: { condition: 'service_completed_successfully' } } },
        worker: {},
        migrate: { restart: 'no' },
      }),
    },
    { env: env('production') },
  ]

  it('flags no and on-failure (they do not come back after a reboot), not a one-off service', () => {
    const containers = parsePs(
      [
        psLine('shop-staging-web-1', composeLabels('shop-staging', 'web')),
        psLine('shop-staging-worker-1', composeLabels('shop-staging', 'worker')),
        psLine('shop-staging-migrate-1', composeLabels('shop-staging', 'migrate'), { State: 'exited', Status: 'Exited (0) 1 hour ago' }),
        psLine('shop-production-web-1', composeLabels('shop-production', 'web')),
      ].join('\n'),
    )
    const inspect = [
      '{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"unless-stopped"}',
      '{"id":"shop-staging-worker-1-id","name":"/shop-staging-worker-1","restart":"no"}',
      '{"id":"shop-staging-migrate-1-id","name":"/shop-staging-migrate-1","restart":"no"}',
      '{"id":"shop-production-web-1-id","name":"/shop-production-web-1","restart":"on-failure"}',
    ].join('\n')
    const check = restartCheck(actives, containers, parseRestartPolicies(inspect))
    expect(check.status).toBe('fail')
    expect(check.details).toEqual(['shop-staging-worker-1 (staging/worker): restart no', 'shop-production-web-1 (production/web): restart on-failure'])
    expect(check.hint).toContain('restart: unless-stopped')
  })

  it('is ok when every long-running container restarts; inspect reads no more than the policy', () => {
    const containers = parsePs(psLine('shop-staging-web-1', composeLabels('shop-staging', 'web')))
    const check = restartCheck(actives, containers, parseRestartPolicies('{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"always"}'))
    expect(check).toMatchObject({ status: 'ok', summary: '1 long-running container restarts after a reboot' })
    expect(inspectRestartPolicies(SHELL_ENGINE, ['a', 'b'])).toEqual([
      'docker', 'inspect', '--type', 'container', '--format',
      '{"id":{{json .Id}},"name":{{json .Name}},"restart":{{json .HostConfig.RestartPolicy.Name}}}',
      'a', 'b',
    ])
  })
})

describe('portCheck', () => {
  const web = (published: string, host_ip?: string) => model({ web: { ports: [{ target: 8080, published, ...(host_ip ? { host_ip } : {}) }] } })

  it('fails when two environments record the same host port', () => {
    const check = portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: web('8080') }], undefined)
    expect(check.status).toBe('fail')
    expect(check.details).toEqual(['host port 8080/tcp: staging (web) and production (web) both publish it'])
  })

  it('compares ranges and host addresses', () => {
    expect(portCheck([{ env: env('staging'), model: web('8000-8005') }, { env: env('production'), model: web('8003') }], undefined).status).toBe('fail')
    expect(portCheck([{ env: env('staging'), model: web('8080', '127.0.0.1') }, { env: env('production'), model: web('8080', '127.0.0.2') }], undefined).status).toBe('ok')
    expect(portCheck([{ env: env('staging'), model: web('8080', '127.0.0.1') }, { env: env('production'), model: web('8080') }], undefined).status).toBe('fail')
  })

  it('fails when a container of another project or a hand-started one holds a port the app publishes', () => {
    const running = parsePs(
      [
        psLine('shop-staging-web-1', composeLabels('shop-staging', 'web'), { Ports: '0.0.0.0:8080->8080/tcp' }),
        psLine('legacy-nginx-1', composeLabels('legacy', 'nginx'), { Ports: '0.0.0.0:8081->80/tcp, [::]:8081->80/tcp' }),
        // Inherits shop-production's project label from its image, yet compose did not create it.
        psLine('shop-web-manual', { 'com.docker.compose.project': 'shop-production' }, { Ports: '0.0.0.0:8082->8080/tcp' }),
      ].join('\n'),
    )
    const check = portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: model({ web: { ports: [{ target: 8080, published: '8081' }, { target: 8080, published: '8082' }] } }) }], running)
    expect(check.details).toEqual([
      'host port 8081/tcp: production (web) publishes it, and so does compose project legacy, container legacy-nginx-1',
      'host port 8082/tcp: production (web) publishes it, and so does container shop-web-manual, started outside compose',
    ])
  })

  it('is ok when nothing is published twice', () => {
    expect(portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: web('8081') }, { env: env('preview') }], []).status).toBe('ok')
  })
})

describe('envFileCheck', () => {
  it('fails on a file readable by group or others, with the chmod to run', () => {
    const check = envFileCheck([
      { env: 'staging', path: '/srv/shop/environments/staging.env', mode: 0o644 },
      { env: 'production', path: '/srv/shop/environments/production.env', mode: 0o640 },
      { env: 'preview', path: '/srv/shop/environments/preview.env', mode: 0o600 },
    ])
    expect(check.status).toBe('fail')
    expect(check.details).toEqual([
      '/srv/shop/environments/staging.env (staging) is mode 644: open to every user',
      '/srv/shop/environments/production.env (production) is mode 640: open to its group',
    ])
    expect(check.hint).toBe('chmod 600 /srv/shop/environments/staging.env /srv/shop/environments/production.env')
  })

  it('is ok at 600 or 400, and warns about a missing file', () => {
    expect(envFileCheck([{ env: 'a', path: '/a', mode: 0o600 }, { env: 'b', path: '/b', mode: 0o400 }]).status).toBe('ok')
    expect(envFileCheck([{ env: 'a', path: '/a', error: 'missing' }])).toMatchObject({ status: 'warn', details: ['/a (a): missing'] })
  })
})

describe('lockCheck', () => {
  const info = (over: Partial<LockInfo>): LockInfo => ({ pid: 4242, host: 'web1', by: 'alice@web1', command: 'berth deploy staging', startedAt: '2026-11-22T09:30:00.000Z', ...over })

  it('warns about a lock whose process is gone on this host, or that never got written whole', () => {
    const check = lockCheck(
      [
        { env: 'staging', path: '/s/.berth/staging/lock', info: info({}) },
        { env: 'production', path: '/s/.berth/production/lock' },
      ],
      'web1',
      () => false,
    )
    expect(check.status).toBe('warn')
    expect(check.summary).toBe('2 stale locks')
    expect(check.details[0]).toBe('staging: stale lock left by alice@web1 (pid 4242, "berth deploy staging", since 2026-11-22T09:30:00.000Z), whose process is gone')
    expect(check.hint).toContain('rm /s/.berth/staging/lock /s/.berth/production/lock')
  })

  it('is ok with a live holder, and cannot judge a lock taken on another host', () => {
    expect(lockCheck([{ env: 'staging', path: '/l', info: info({}) }], 'web1', () => true)).toMatchObject({ status: 'ok', details: [expect.stringContaining('running now')] })
    expect(lockCheck([{ env: 'staging', path: '/l', info: info({ host: 'web2' }) }], 'web1', () => false).summary).toBe('1 lock taken on another host')
    expect(lockCheck([], 'web1', () => false)).toMatchObject({ status: 'ok', summary: 'no environment is locked' })
  })
})

describe('stateCheck', () => {
  const damaged = { file: '/s/.berth/staging/releases.json', problem: 'releases[0].tag: expected a string, got number', fix: 'Restore the last good copy berth kept: cp /s/.berth/staging/releases.json.last-good /s/.berth/staging/releases.json' }
  const audit = { file: '/s/.berth/production/audit.log', lines: [{ line: 3, problem: 'not valid JSON' }, { line: 9, problem: 'not valid JSON' }] }

  it('is ok when every state file reads', () => {
    expect(stateCheck([{ env: 'staging', damaged: [] }, { env: 'production', damaged: [] }])).toEqual({ id: 'state', status: 'ok', summary: 'the state files of 2 environments read as they should', details: [] })
  })

  it('fails on damaged records, naming the file, the problem and the fix', () => {
    const check = stateCheck([{ env: 'staging', damaged: [damaged] }, { env: 'production', damaged: [], audit }])
    expect(check.status).toBe('fail')
    expect(check.summary).toBe('1 damaged state file (staging): deploy, rollback and down of that environment are refused')
    expect(check.details).toEqual([
      'staging: /s/.berth/staging/releases.json: releases[0].tag: expected a string, got number',
      'production: /s/.berth/production/audit.log: line 3: not valid JSON; line 9: not valid JSON',
    ])
    expect(check.hint).toContain(`staging: ${damaged.fix}`)
    expect(check.hint).toContain("sed -i '3d;9d' /s/.berth/production/audit.log")
  })

  it('only warns about damaged audit lines: berth appends after them and relies on nothing in the log', () => {
    const check = stateCheck([{ env: 'production', damaged: [], audit }])
    expect(check).toMatchObject({ status: 'warn', summary: '1 audit log with damaged lines' })
    expect(check.hint).toBe("berth appends after damaged lines and never reads the log to decide anything. To drop them: sed -i '3d;9d' /s/.berth/production/audit.log")
  })
})

describe('diskCheckOf', () => {
  it('warns under 2 GiB free', () => {
    expect(diskCheckOf('/var/lib/docker', MIN_FREE_BYTES).status).toBe('ok')
    expect(diskCheckOf('/var/lib/docker', MIN_FREE_BYTES - 1)).toMatchObject({ status: 'warn', summary: '2.0 GiB free in /var/lib/docker: a build or pull may fill it' })
  })
})

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

  const deps = (run: Deps['run']): Deps => ({ target: localTarget({ stateDir: config.stateDir }), run, reporter: silentReporter, probe: async () => ({ ok: true }) as never, sleep: async () => {}, now: () => new Date() })

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
    const report = await doctor(config, deps(run))
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
    const report = await doctor(config, deps(run))
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
    const report = await doctor(config, deps(fakeRun([['docker version', daemonDown], ['docker compose version', daemonDown]]).run))
    expect(report.checks.find((c) => c.id === 'locks')).toMatchObject({ status: 'ok', summary: 'no environment is locked' })
    expect(report.checks.find((c) => c.id === 'state')).toMatchObject({ status: 'fail', details: [expect.stringMatching(/staging: .*lock: pid: expected a process id; host: is required/)] })
  })

  it('still checks env files, locks and recorded ports when the engine is down, and exits 6', async () => {
    const daemonDown = { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' }
    const { run, calls } = fakeRun([['docker version', daemonDown], ['docker compose version', daemonDown]])
    const report = await doctor(config, deps(run))
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
    // The two version checks run together; nothing else is asked of an engine that does not answer.
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['docker version --format', 'docker compose version'])
  })
})
