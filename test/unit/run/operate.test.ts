import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import type { Deps } from '../../../src/run/context.js'
import { compose, composeSubcommand, down, logs, type Output, plainLine } from '../../../src/run/operate.js'
import { readReleases, type ReleaseRecord, writeReleases } from '../../../src/state/releases.js'
import { writeFileAtomic } from '../../../src/state/files.js'
import type { RunOptions, RunResult } from '../../../src/docker/runner.js'
import { ExitCode, UsageError } from '../../../src/errors.js'
import { silentReporter } from '../../../src/progress.js'
import { clearSecrets } from '../../../src/secrets.js'
import { environmentConfig } from '../fixtures.js'
import { configPath } from '../../../src/state/paths.js'
import { localTarget } from '../../../src/target/local.js'

const SECRET = 'unit-secret-token-91d3'

let dir: string
let config: Config

function environment(name: string, over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return { ...environmentConfig(name, dir), required: ['DATABASE_URL'], health: { timeoutMs: 1000, intervalMs: 10, http: [] }, ...over }
}

interface Call {
  argv: readonly string[]
  options: RunOptions
}

/**
 * A scripted engine: answers the version checks and `docker ps`, and plays `lines` to a streaming call
 * (stdout, plus one stderr line holding the secret) before returning `exitCode`.
 */
function fakeDeps(o: { containers?: string[]; lines?: string[]; exitCode?: number } = {}) {
  const calls: Call[] = []
  const warnings: string[] = []
  const containers = o.containers ?? ['web', 'store']
  const run = async (argv: readonly string[], options: RunOptions = {}): Promise<RunResult> => {
    calls.push({ argv, options })
    const joined = argv.join(' ')
    if (joined === 'docker version --format {{json .}}') return { stdout: '{"Server":{"Version":"27.3.1"}}', stderr: '', exitCode: 0 }
    if (joined === 'docker compose version --format json') return { stdout: '{"version":"v2.29.7"}', stderr: '', exitCode: 0 }
    if (argv[1] === 'ps') {
      const rows = containers.map((s) => JSON.stringify({ ID: s, Names: `shop-staging-${s}-1`, Image: `shop-${s}:1`, State: 'running', Status: 'Up', Labels: `com.docker.compose.project=shop-staging,com.docker.compose.service=${s}` }))
      return { stdout: rows.join('\n'), stderr: '', exitCode: 0 }
    }
    for (const line of o.lines ?? []) options.onLine?.(line, 'stdout')
    options.onLine?.(`warning: ${SECRET} seen`, 'stderr')
    return { stdout: '', stderr: '', exitCode: o.exitCode ?? 0 }
  }
  const deps: Deps = {
    target: localTarget(),
    run,
    reporter: { ...silentReporter, warn: (m) => warnings.push(m) },
    probe: async () => ({ ok: true, detail: '' }),
    sleep: async () => {},
    now: () => new Date('2026-11-22T10:00:00.000Z'),
  }
  return { deps, calls, warnings }
}

function collect(): Output & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) }
}

function record(tag: string, status: ReleaseRecord['status']): ReleaseRecord {
  return { tag, deployedAt: '2026-11-22T09:00:00.000Z', activeSince: '2026-11-22T09:01:00.000Z', by: 'alice@host', status, images: {}, builtImages: [], envHash: 'x', configFile: `${tag}.compose.yaml` }
}

/** staging has an active release whose recorded config is on disk. */
async function deployedStaging(): Promise<string> {
  const tag = '20261122-090000'
  await writeReleases(config.stateDir, 'staging', [record(tag, 'active')])
  await writeFileAtomic(configPath(config.stateDir, 'staging', `${tag}.compose.yaml`), 'services:\n  web: {}\n  store: {}\n')
  return tag
}

beforeEach(async () => {
  clearSecrets()
  dir = await mkdtemp(join(tmpdir(), 'berth-operate-'))
  await writeFile(join(dir, 'compose.yaml'), 'services: {}\n')
  await mkdir(join(dir, 'environments'))
  // DATABASE_URL is required but missing: logs, compose and down must still work.
  await writeFile(join(dir, 'environments', 'staging.env'), `SECRET_TOKEN=${SECRET}\nPRIVATE_PEM="line-one-of-key\nline-two-of-key"\n`)
  await writeFile(join(dir, 'environments', 'production.env'), 'SECRET_TOKEN=other\n')
  config = {
    app: 'shop',
    file: join(dir, 'deploy.yml'),
    edge: { image: 'caddy:2' },
    dir,
    stateDir: join(dir, '.berth'),
    environments: new Map([
      ['staging', environment('staging')],
      ['production', environment('production', { confirm: true })],
    ]),
  }
})

afterEach(async () => {
  clearSecrets()
  await rm(dir, { recursive: true, force: true })
})

describe('composeSubcommand', () => {
  it.each([
    [['ps'], 'ps'],
    [['--profile', 'debug', 'up', '-d'], 'up'],
    [['--dry-run', '--ansi', 'never', 'down'], 'down'],
    [['exec', '-T', 'web', 'sh', '-c', 'ls -f'], 'exec'],
    // -f after the subcommand is the subcommand's own (logs --follow), not compose's --file.
    [['logs', '-f', 'web'], 'logs'],
  ])('finds the subcommand of %j', (args, expected) => {
    expect(composeSubcommand(args)).toBe(expected)
  })

  it.each([[['-p', 'other', 'down']], [['--project-name=other', 'ps']], [['-pother', 'ps']], [['-f', 'x.yaml', 'up']], [['--file', 'x.yaml', 'up']], [['--env-file', '.env', 'config']], [['--project-directory', '/', 'ps']]])(
    'refuses %j, which would point compose elsewhere',
    (args) => {
      const error = (() => {
        try {
          composeSubcommand(args)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).code).toBe('COMPOSE_RETARGET')
      expect((error as UsageError).exitCode).toBe(ExitCode.usage)
    },
  )

  it('refuses no command at all', () => {
    expect(() => composeSubcommand([])).toThrow(/no compose command/)
    expect(() => composeSubcommand(['--dry-run'])).toThrow(/no compose command/)
  })
})

describe('plainLine', () => {
  it("drops compose's erase-line and colour sequences, nothing else", () => {
    expect(plainLine('\x1b[2Kweb-1  | \x1b[31mred\x1b[0m text')).toBe('web-1  | red text')
    expect(plainLine('plain [2K text')).toBe('plain [2K text')
  })
})

describe('logs', () => {
  it('streams the recorded config of the active release, every line masked, multi-line secrets line by line', async () => {
    const tag = await deployedStaging()
    const { deps, calls } = fakeDeps({ lines: [`\x1b[2Kweb-1 | token=${SECRET}`, 'web-1 | line-two-of-key'] })
    const sink = collect()
    const result = await logs({ config, envName: 'staging', service: 'web', follow: true, tail: 10 }, deps, sink)
    expect(result).toEqual({ environment: 'staging', project: 'shop-staging', release: tag, containers: 2 })
    expect(sink.out).toEqual(['web-1 | token=****', 'web-1 | ****'])
    expect(sink.err).toEqual(['warning: **** seen'])
    const logsCall = calls.find((c) => c.argv.includes('logs'))
    expect(logsCall?.argv).toEqual([
      'docker', 'compose', '--project-name', 'shop-staging', '--project-directory', dir,
      '--file', configPath(config.stateDir, 'staging', `${tag}.compose.yaml`), '--env-file', join(dir, 'environments', 'staging.env'),
      'logs', '--no-color', '--tail', '10', '--follow', 'web',
    ])
  })

  it('uses the operator\'s compose files when nothing is recorded', async () => {
    const { deps, calls } = fakeDeps()
    await logs({ config, envName: 'staging', follow: false }, deps, collect())
    expect(calls.find((c) => c.argv.includes('logs'))?.argv).toContain(join(dir, 'compose.yaml'))
  })

  it('refuses an unknown service, naming the known ones, before reading any log', async () => {
    await deployedStaging()
    const { deps, calls } = fakeDeps()
    await expect(logs({ config, envName: 'staging', service: 'db', follow: false }, deps, collect())).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE', exitCode: 2, hint: 'Services of staging: store, web' })
    expect(calls.some((c) => c.argv.includes('logs'))).toBe(false)
  })

  it('says so when the environment has no containers, without running compose logs', async () => {
    const { deps, calls, warnings } = fakeDeps({ containers: [] })
    const result = await logs({ config, envName: 'staging', follow: true }, deps, collect())
    expect(result.containers).toBe(0)
    expect(warnings.join()).toContain('staging has no containers')
    expect(calls.some((c) => c.argv.includes('logs'))).toBe(false)
  })
})

describe('compose', () => {
  it("runs the arguments on the environment's project, files and env file, masked, returning compose's exit code", async () => {
    const { deps, calls } = fakeDeps({ lines: [`SECRET_TOKEN: ${SECRET}`], exitCode: 7 })
    const sink = collect()
    const result = await compose({ config, envName: 'staging', args: ['config'], terminal: true }, deps, sink)
    expect(result).toEqual({ environment: 'staging', project: 'shop-staging', subcommand: 'config', exitCode: 7 })
    expect(sink.out).toEqual(['SECRET_TOKEN: ****'])
    const call = calls.at(-1) as Call
    expect(call.argv).toEqual(['docker', 'compose', '--project-name', 'shop-staging', '--project-directory', dir, '--file', join(dir, 'compose.yaml'), '--env-file', join(dir, 'environments', 'staging.env'), 'config'])
    expect(call.options).toMatchObject({ allowFailure: true, stdinInherit: true })
    expect(call.options.inherit).toBeUndefined()
  })

  it('gives an interactive exec the terminal, but masks it without one', async () => {
    const tty = fakeDeps()
    await compose({ config, envName: 'staging', args: ['exec', 'web', 'sh'], terminal: true }, tty.deps, collect())
    expect(tty.calls.at(-1)?.options).toEqual({ inherit: true, allowFailure: true })

    const piped = fakeDeps()
    await compose({ config, envName: 'staging', args: ['exec', '-T', 'web', 'env'], terminal: false }, piped.deps, collect())
    expect(piped.calls.at(-1)?.options.onLine).toBeTypeOf('function')
  })

  it('warns that up and down bypass the release records', async () => {
    const { deps, warnings } = fakeDeps()
    await compose({ config, envName: 'staging', args: ['up', '-d'], terminal: false }, deps, collect())
    expect(warnings.join()).toMatch(/compose up is not recorded/)
  })

  it('refuses before touching the engine when the arguments retarget compose', async () => {
    const { deps, calls } = fakeDeps()
    await expect(compose({ config, envName: 'staging', args: ['-p', 'shop-production', 'down'], terminal: false }, deps, collect())).rejects.toBeInstanceOf(UsageError)
    expect(calls).toEqual([])
  })
})

describe('down', () => {
  const request = (over: Partial<Parameters<typeof down>[0]> = {}) => ({ config, envName: 'staging', volumes: false, confirm: async () => true, command: 'berth down staging', ...over })

  it('downs the recorded config under the lock, demotes the active release to previous, and audits it', async () => {
    const tag = await deployedStaging()
    const { deps, calls } = fakeDeps()
    const result = await down(request(), deps)
    expect(result).toMatchObject({ environment: 'staging', project: 'shop-staging', release: tag, containers: ['shop-staging-store-1', 'shop-staging-web-1'], volumes: false })
    const downCall = calls.find((c) => c.argv.includes('down'))
    expect(downCall?.argv.slice(-2)).toEqual(['down', '--remove-orphans'])
    expect(downCall?.argv).toContain(configPath(config.stateDir, 'staging', `${tag}.compose.yaml`))
    expect((await readReleases(config.stateDir, 'staging')).map((r) => r.status)).toEqual(['previous'])
    const audit = (await readFile(join(config.stateDir, 'staging', 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(audit).toEqual([{ action: 'down', by: expect.stringContaining('@') as unknown, at: '2026-11-22T10:00:00.000Z', result: 'ok', durationMs: 0, tag }])
    await expect(stat(join(config.stateDir, 'staging', 'lock'))).rejects.toThrow()
  })

  it('removes volumes only with --volumes', async () => {
    const { deps, calls } = fakeDeps()
    await down(request({ volumes: true }), deps)
    expect(calls.find((c) => c.argv.includes('down'))?.argv.slice(-3)).toEqual(['down', '--remove-orphans', '--volumes'])
  })

  it('asks on a confirm environment and changes nothing when refused', async () => {
    const questions: string[] = []
    const { deps, calls } = fakeDeps()
    const error = await down(request({ envName: 'production', volumes: true, confirm: async (q) => (questions.push(q), false) }), deps).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'NOT_CONFIRMED', exitCode: 2 })
    expect(questions).toEqual(['Stop and remove shop-production and delete its volumes?'])
    expect(calls.some((c) => c.argv.includes('down'))).toBe(false)
    await expect(stat(join(config.stateDir, 'production'))).rejects.toThrow()
  })

  it('audits a failed down with its error code and still releases the lock', async () => {
    const { deps } = fakeDeps()
    const failing: Deps = {
      ...deps,
      run: async (argv, options) => {
        if (argv.includes('down')) throw new UsageError('boom')
        return deps.run(argv, options)
      },
    }
    await expect(down(request(), failing)).rejects.toThrow('boom')
    const audit = JSON.parse((await readFile(join(config.stateDir, 'staging', 'audit.log'), 'utf8')).trim()) as Record<string, unknown>
    expect(audit).toMatchObject({ action: 'down', result: 'USAGE', message: 'boom' })
    await expect(stat(join(config.stateDir, 'staging', 'lock'))).rejects.toThrow()
  })
})
