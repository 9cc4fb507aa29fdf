import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, docker, expectRefused, requireEngine, seenOutput } from './engine.js'

/**
 * Refuse before damage (SPEC §5): every bad input or situation exits with its code and a message saying
 * what is wrong, and leaves containers, images, networks, volumes and release records byte for byte as
 * they were. Staging runs a release throughout, so "unchanged" is checked against a live environment.
 */

const APP = 'berthrefuse'
const SECRET = 'fixture-staging-token-4f9c'
let dir: string
let kept = ''
let pruned = ''

function write(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const deployYml = () => readFileSync(join(dir, 'deploy.yml'), 'utf8')

interface Case {
  name: string
  /** Prepares files (relative to the fixture copy) and returns the berth arguments. */
  args: () => string[]
  env?: () => NodeJS.ProcessEnv
  /** Piped to berth's stdin. */
  input?: string
  code: number
  message: RegExp
}

const configCase = (name: string, yml: () => string, message: RegExp): Case => ({
  name,
  args: () => ['deploy', 'staging', '--config', write(`bad-${name.replace(/\W+/g, '-')}.yml`, yml())],
  code: 2,
  message,
})

const composeCase = (name: string, compose: string, message: RegExp): Case => ({
  name,
  args: () => {
    write(`compose-${name.replace(/\W+/g, '-')}.yaml`, compose)
    return ['deploy', 'staging', '--config', write(`deploy-${name.replace(/\W+/g, '-')}.yml`, deployYml().replace('compose: [compose.yaml]', `compose: [compose-${name.replace(/\W+/g, '-')}.yaml]`))]
  },
  code: 2,
  message,
})

const envCase = (name: string, envText: string, message: RegExp): Case => ({
  name,
  args: () => {
    const file = `env/bad-${name.replace(/\W+/g, '-')}.env`
    write(file, envText)
    return ['deploy', 'staging', '--config', write(`deploy-env-${name.replace(/\W+/g, '-')}.yml`, deployYml().replace('env_file: env/staging.env', `env_file: ${file}`))]
  },
  code: 2,
  message,
})

const webService = (extra: string) => `services:
  web:
    build: ./web
${extra}
`

const cases: Case[] = [
  configCase('malformed YAML', () => 'app: [berthrefuse\nenvironments: {}\n', /bad-malformed-YAML\.yml:\d+/),
  configCase('unknown top-level key', () => `${deployYml()}helth: {}\n`, /helth: unknown key/),
  configCase('unknown environment key', () => deployYml().replace('    env_file: env/staging.env', '    env_file: env/staging.env\n    envfile: x'), /environments\.staging\.envfile: unknown key/),
  configCase('wrong type for keep', () => deployYml().replace('keep: 3', 'keep: many'), /releases\.keep/),
  configCase('bad duration', () => deployYml().replace('timeout: 20s', 'timeout: soon'), /health\.timeout: expected a duration like "90s"/),
  configCase('bad app name', () => deployYml().replace(`app: ${APP}`, 'app: Shop'), /:\d+ app: /),
  configCase('bad environment name in config', () => deployYml().replace('  production:', '  Prod:'), /environments\.Prod/),
  configCase('missing app', () => deployYml().replace(`app: ${APP}\n`, ''), /app: .*required/),
  configCase('missing compose file', () => deployYml().replace('compose: [compose.yaml]', 'compose: [nope.yaml]'), /nope\.yaml/),
  { name: 'environment name with a path', args: () => ['deploy', '../x'], code: 2, message: /environment name/ },
  { name: 'environment name with capitals', args: () => ['deploy', 'Prod'], code: 2, message: /environment name/ },
  { name: 'empty environment name', args: () => ['deploy', ''], code: 2, message: /environment name/ },
  { name: 'unknown environment', args: () => ['deploy', 'qa'], code: 2, message: /qa.*(staging|production)/s },
  configCase('missing env file', () => deployYml().replace('env_file: env/staging.env', 'env_file: env/missing.env'), /env\/missing\.env/),
  envCase('missing required variable', 'WEB_PORT=18581\nAPP_ENV=staging\n', /SECRET_TOKEN \(not set\)/),
  envCase('empty required variable', 'WEB_PORT=18581\nAPP_ENV=staging\nSECRET_TOKEN=\n', /SECRET_TOKEN \(empty\)/),
  envCase('compose config fails (WEB_PORT unset)', `APP_ENV=staging\nSECRET_TOKEN=${SECRET}\n`, /compose config failed[\s\S]*set WEB_PORT in the env file/),
  composeCase('fixed container_name', webService('    container_name: web\n    ports: ["${WEB_PORT}:8080"]'), /container_name/),
  composeCase('secret echoed back by compose', webService('    ports: ["${SECRET_TOKEN}:8080"]'), /compose config failed[\s\S]*\*\*\*\*/),
  {
    name: 'port already published by a sibling environment',
    args: () => {
      write('env/production-clash.env', `WEB_PORT=18481\nAPP_ENV=production\nSECRET_TOKEN=fixture-production-token-7b21\n`)
      return ['deploy', 'production', '--config', write('deploy-clash.yml', deployYml().replace('env_file: env/production.env', 'env_file: env/production-clash.env'))]
    },
    code: 2,
    message: /host port 18481\/tcp .*berthrefuse-staging \(berth environment staging\)/,
  },
  { name: 'unknown rollback tag', args: () => ['rollback', 'staging', '--to', '20200101-000000'], code: 2, message: /no release 20200101-000000[\s\S]*can be rolled back to: \d{8}-\d{6}/ },
  { name: 'rollback to a pruned image', args: () => ['rollback', 'staging', '--to', pruned], code: 2, message: /cannot be restored: .* gone[\s\S]*No other release of staging has its images here/ },
  { name: 'rollback with no previous release', args: () => ['rollback', 'production'], code: 2, message: /no previous release/ },
  { name: 'promote an unknown tag', args: () => ['deploy', 'production', '--tag', '20200101-000000'], code: 2, message: /not on this host[\s\S]*Releases with images here/ },
  { name: 'malformed --tag', args: () => ['deploy', 'production', '--tag', 'latest'], code: 2, message: /not a release tag/ },
  { name: 'unknown flag', args: () => ['deploy', 'staging', '--frobnicate'], code: 2, message: /frobnicate/ },
  // oclif would take a missing argument from a piped stdin: `echo production | berth deploy` deployed production.
  { name: 'environment name on stdin, not in the arguments', args: () => ['deploy'], input: 'production\n', code: 2, message: /Missing 1 required arg[\s\S]*env/ },
  {
    name: 'confirm: true without a TTY and without --yes',
    args: () => ['deploy', 'staging', '--config', write('deploy-confirm.yml', deployYml().replace('    env_file: env/staging.env', '    env_file: env/staging.env\n    confirm: true'))],
    code: 2,
    message: /--yes/,
  },
  { name: 'engine down', args: () => ['deploy', 'staging'], env: () => ({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }), code: 6, message: /Docker engine does not answer/ },
  {
    name: 'Compose v1 only',
    args: () => ['deploy', 'staging'],
    env: () => {
      // A docker client without the compose plugin: every other subcommand goes to the real one.
      const bin = join(dir, 'fake-bin')
      mkdirSync(bin, { recursive: true })
      const real = process.env.PATH
      writeFileSync(join(bin, 'docker'), `#!/bin/sh\nif [ "$1" = compose ]; then echo "docker: 'compose' is not a docker command." >&2; exit 1; fi\nPATH="${real}" exec docker "$@"\n`)
      writeFileSync(join(bin, 'docker-compose'), '#!/bin/sh\necho "docker-compose version 1.29.2, build unknown"\n')
      chmodSync(join(bin, 'docker'), 0o755)
      chmodSync(join(bin, 'docker-compose'), 0o755)
      return { PATH: `${bin}:${process.env.PATH}` }
    },
    code: 6,
    message: /Compose v2 .* not installed; berth does not use Compose v1/,
  },
]

describe('refusals leave everything as it was', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ['staging', 'production'])
    dir = copyFixtureAs(APP, { staging: 18481, production: 18482 })
    const first = berth(dir, ['deploy', 'staging'])
    expect(first.code, first.stderr).toBe(0)
    writeFileSync(join(dir, 'web', 'www', 'version'), 'v2\n')
    const second = berth(dir, ['deploy', 'staging'])
    expect(second.code, second.stderr).toBe(0)
    const releases = (JSON.parse(berth(dir, ['releases', 'staging', '--json']).stdout) as { releases: { tag: string; status: string }[] }).releases
    kept = releases.find((r) => r.status === 'active')?.tag ?? ''
    pruned = releases.find((r) => r.status === 'previous')?.tag ?? ''
    expect(kept && pruned).toBeTruthy()
    // The previous release's web image is gone (pruned by hand): rollback to it must be refused.
    docker('image', 'rm', `${APP}-web:${pruned}`)
  })

  afterAll(() => cleanApp(APP, ['staging', 'production']))

  it(`has a table of at least 25 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25)
  })

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expectRefused(dir, c.args(), c.code, c.message, c.env?.() ?? {}, c.input)
  })

  it('takes no argument from stdin: status with an environment name piped in shows every environment', () => {
    const r = berth(dir, ['status'], {}, 'production\n')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^staging \(berthrefuse-staging\)/m)
    expect(r.stdout).toMatch(/^production \(berthrefuse-production\)/m)
  })

  it('never printed the secret, not even from compose errors', () => {
    expect(seenOutput.join('\n')).not.toContain(SECRET)
  })
})
