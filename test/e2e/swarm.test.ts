import { spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, appStateHere, hashTree, httpGet, requireEngine } from './engine.js'
import { dockerB, engineStateB, HOST_B, HOST_B_ADDR, HOST_B_SOCKET, HOST_STATE_ROOT, REGISTRY_ROOT_B, requireHostB } from './hostB.js'

/**
 * SPEC §10's target: swarm on a real one-node swarm (the second host's engine) with a real registry on that
 * host's 127.0.0.1:5000: staging and production as stacks side by side, images pushed and pinned by digest,
 * promotion by digest, rollback to any kept release, Swarm-side rollbacks and failing jobs caught, refusals that
 * change nothing on either engine or the registry, and a sibling stack nobody touches.
 */

const APP = 'berthswarm'
const ENVS = ['staging', 'production', 'noreg', 'deadreg', 'clash', 'lonely', 'nologin']
const PORTS = { staging: 18961, production: 18962 }
const SIBLING = 'berthsibling'
const SIBLING_PORT = 18963
const REGISTRY_PASSWORD = 'fixture-registry-password-93c1'
/** Where `docker login` keeps what it is given: restored after the file, as it was. */
const DOCKER_CONFIG_FILE = join(homedir(), '.docker', 'config.json')
let dir: string
let version = 0

function bumpVersion(): string {
  writeFileSync(join(dir, 'web', 'www', 'version'), `v${++version}\n`)
  return `v${version}`
}

function setEnv(env: string, key: string, value: string): void {
  const file = join(dir, 'env', `${env}.env`)
  const text = readFileSync(file, 'utf8')
  const line = `${key}=${value}`
  writeFileSync(file, new RegExp(`^${key}=.*$`, 'm').test(text) ? text.replace(new RegExp(`^${key}=.*$`, 'm'), line) : `${text}${line}\n`)
}

type Release = { tag: string; status: string; images: Record<string, string>; configFile: string }
function releases(env: string): Release[] {
  return (JSON.parse(berth(dir, ['releases', env, '--json']).stdout) as { releases: Release[] }).releases
}

function activeTag(env: string): string | undefined {
  return releases(env).find((r) => r.status === 'active')?.tag
}

/** service → the image its spec runs, for a stack. */
function stackImages(stack: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of dockerB('service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Name}}').split('\n').filter(Boolean)) {
    out[line.slice(stack.length + 1)] = dockerB('service', 'inspect', line, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}')
  }
  return out
}

async function body(env: keyof typeof PORTS, path: string): Promise<string> {
  return (await httpGet(`http://${HOST_B_ADDR}:${PORTS[env]}${path}`)).body.trim()
}

/** The sibling stack's task containers and when each started: no step of berth may restart them. */
function siblingStarts(): string[] {
  const ids = dockerB('ps', '--all', '--quiet', '--filter', `label=com.docker.stack.namespace=${SIBLING}`).split('\n').filter(Boolean)
  return ids.map((id) => dockerB('inspect', id, '--format', '{{.Name}} {{.State.StartedAt}} {{.State.Status}}')).sort()
}

function removeStack(stack: string): void {
  spawnSync('docker', ['stack', 'rm', stack], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
}

/** Everything of the app on the second host and in its registry, by stack, label and repository name only. */
function cleanSwarm(): void {
  for (const env of ENVS) removeStack(`${APP}-${env}`)
  removeStack(SIBLING)
  // A job's task container outlives its service (docker stack rm leaves it): removed by the stack's label.
  const env0 = { ...process.env, DOCKER_HOST: HOST_B_SOCKET }
  for (const stack of [...ENVS.map((e) => `${APP}-${e}`), SIBLING]) {
    const ids = dockerB('ps', '--all', '--quiet', '--filter', `label=com.docker.stack.namespace=${stack}`).split('\n').filter(Boolean)
    if (ids.length) spawnSync('docker', ['rm', '--force', '--volumes', ...ids], { stdio: 'ignore', env: env0 })
  }
  for (let i = 0; i < 60; i++) {
    // One listing with the label: a network inspected by ID after `ls` may already be gone (Swarm removes them meanwhile).
    const left = dockerB('network', 'ls', '--filter', 'label=com.docker.stack.namespace', '--format', '{{.Label "com.docker.stack.namespace"}}').split('\n').filter(Boolean)
    const ours = left.filter((name) => name.startsWith(`${APP}-`) || name === SIBLING)
    if (ours.length === 0) break
    spawnSync('sleep', ['0.5'])
  }
  const env = { ...process.env, DOCKER_HOST: HOST_B_SOCKET }
  for (let i = 0; i < 20; i++) {
    const volumes = dockerB('volume', 'ls', '--quiet').split('\n').filter((v) => v.startsWith(`${APP}-`) || v.startsWith(`${SIBLING}_`))
    if (volumes.length === 0) break
    spawnSync('docker', ['volume', 'rm', ...volumes], { stdio: 'ignore', env })
    spawnSync('sleep', ['0.5'])
  }
  const images = dockerB('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}').split('\n').filter((r) => r.includes(`/${APP}-`) || r.startsWith(`${SIBLING}:`))
  const labelled = dockerB('image', 'ls', '--filter', `label=berth.app=${APP}`, '--format', '{{.Repository}}:{{.Tag}}').split('\n').filter((r) => r && !r.includes('<none>'))
  const refs = [...new Set([...images, ...labelled])]
  if (refs.length) spawnSync('docker', ['image', 'rm', '--force', ...refs], { stdio: 'ignore', env })
  // What tasks were pulled by digest only (no tag left) is this app's too: by ID, labelled berth.app.
  const untagged = dockerB('image', 'ls', '--quiet', '--filter', `label=berth.app=${APP}`).split('\n').filter(Boolean)
  if (untagged.length) spawnSync('docker', ['image', 'rm', '--force', ...new Set(untagged)], { stdio: 'ignore', env })
  for (const repo of [`${APP}-web`, `${APP}-store`, `${APP}-migrate`]) rmSync(join(REGISTRY_ROOT_B, 'docker', 'registry', 'v2', 'repositories', repo), { recursive: true, force: true })
  rmSync(join(HOST_STATE_ROOT, APP), { recursive: true, force: true })
  cleanApp(APP, ['lonely'])
}

/** What a refusal must leave as it was: the second host's engine and the app's state there, and the registry. */
function swarmState(): Record<string, unknown> {
  return { engine: engineStateB(APP), services: dockerB('service', 'ls', '--format', '{{.ID}} {{.Name}} {{.Image}}').split('\n').sort(), registry: hashTree(REGISTRY_ROOT_B) }
}

function expectSwarmRefused(args: string[], message: RegExp): void {
  const before = { b: swarmState(), here: appStateHere(join(dir, '.berth'), APP) }
  const r = berth(dir, args)
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2)
  expect(r.stderr).toMatch(message)
  expect({ b: swarmState(), here: appStateHere(join(dir, '.berth'), APP) }).toEqual(before)
}

/** The fixture app (web, store) plus a one-off migrate job web waits on; every environment a stack. */
function swarmFixture(): string {
  const copy = copyFixtureAs(APP, PORTS)
  const swarm = (extra: string) => `    host: ${HOST_B}\n    target: swarm\n${extra}`
  const deployYml = join(copy, 'deploy.yml')
  let text = readFileSync(deployYml, 'utf8')
    // Swarm converges slowly on a loaded host (host-mode ports: stop-first updates and rollbacks, monitor 5s each,
    // and its own rollback of a failed update to wait out): the fixture's 20s was seen running out in CI.
    .replace(/^  timeout: 20s$/m, '  timeout: 60s')
    .replace(/^compose: \[compose.yaml\]$/m, 'compose: [compose.yaml, migrate.yaml]')
    .replace(/^  staging:\n/m, `  staging:\n${swarm('    registry: 127.0.0.1:5000\n')}`)
    .replace(/^  production:\n/m, `  production:\n${swarm(`    registry: 127.0.0.1:5000\n    registry_login: { username: REGISTRY_USER, password: REGISTRY_PASSWORD }\n    secrets: [REGISTRY_PASSWORD]\n`)}`)
  text += [
    '  noreg:',
    swarm('    env_file: env/noreg.env'),
    '  deadreg:',
    swarm('    registry: 127.0.0.1:5999\n    env_file: env/deadreg.env'),
    '  clash:',
    swarm('    registry: 127.0.0.1:5000\n    env_file: env/clash.env'),
    '  nologin:',
    swarm('    registry: 127.0.0.1:5000\n    registry_login: { username: NOPE_USER, password: NOPE_PASSWORD }\n    secrets: [NOPE_PASSWORD]\n    env_file: env/nologin.env'),
    '  lonely:',
    '    target: swarm',
    '    registry: 127.0.0.1:5000',
    '    env_file: env/lonely.env',
    '',
  ].join('\n')
  writeFileSync(deployYml, text)
  const envFile = (port: number, name: string) => `WEB_PORT=${port}\nAPP_ENV=${name}\nSECRET_TOKEN=fixture-${name}-token-51e0\n`
  // production logs in to the registry with the env file's credentials (this registry takes any: it asks for none).
  appendFileSync(join(copy, 'env', 'production.env'), `REGISTRY_USER=berth-deployer\nREGISTRY_PASSWORD=${REGISTRY_PASSWORD}\n`)
  writeFileSync(join(copy, 'env', 'noreg.env'), envFile(18964, 'noreg'))
  writeFileSync(join(copy, 'env', 'deadreg.env'), envFile(18965, 'deadreg'))
  writeFileSync(join(copy, 'env', 'clash.env'), envFile(SIBLING_PORT, 'clash'))
  writeFileSync(join(copy, 'env', 'lonely.env'), envFile(18966, 'lonely'))
  writeFileSync(join(copy, 'env', 'nologin.env'), envFile(18967, 'nologin'))
  writeFileSync(
    join(copy, 'migrate.yaml'),
    [
      '# A one-off job web waits on: it exits with MIGRATE_EXIT from the env file (0 unless a test sets it).',
      'services:',
      '  web:',
      '    depends_on:',
      '      migrate:',
      '        condition: service_completed_successfully',
      '  migrate:',
      '    build: ./store',
      '    restart: "no"',
      '    entrypoint: ["sh", "-c", "echo migrating for $$APP_ENV; exit $${MIGRATE_EXIT:-0}"]',
      '    volumes:',
      '      - data:/data',
      '    environment:',
      '      APP_ENV: ${APP_ENV}',
      '      MIGRATE_EXIT: ${MIGRATE_EXIT:-0}',
      '',
    ].join('\n'),
  )
  return copy
}

/** A stack of another team on the same swarm, deployed with docker itself. */
function deploySibling(): void {
  const context = join(dir, 'sibling')
  mkdirSync(context, { recursive: true })
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["httpd", "-f", "-p", "8080", "-h", "/"]\n')
  writeFileSync(join(context, 'busybox'), readFileSync(join(dir, 'web', 'busybox')), { mode: 0o755 })
  const env = { ...process.env, DOCKER_HOST: HOST_B_SOCKET }
  const build = spawnSync('docker', ['build', '--quiet', '--tag', `${SIBLING}:local`, context], { encoding: 'utf8', env })
  if (build.status !== 0) throw new Error(`the sibling image did not build: ${build.stderr}`)
  writeFileSync(
    join(context, 'stack.yaml'),
    `version: "3.9"\nservices:\n  www:\n    image: ${SIBLING}:local\n    ports:\n      - { target: 8080, published: ${SIBLING_PORT}, mode: host }\n    deploy:\n      endpoint_mode: dnsrr\n`,
  )
  const deploy = spawnSync('docker', ['stack', 'deploy', '--detach=false', '--resolve-image', 'never', '-c', join(context, 'stack.yaml'), SIBLING], { encoding: 'utf8', env })
  if (deploy.status !== 0) throw new Error(`the sibling stack did not deploy: ${deploy.stderr}`)
}

describe('target: swarm, on a real one-node swarm with a registry', () => {
  let sibling: string[]

  let dockerConfig: string | undefined

  beforeAll(async () => {
    requireEngine()
    requireHostB()
    dockerConfig = existsSync(DOCKER_CONFIG_FILE) ? readFileSync(DOCKER_CONFIG_FILE, 'utf8') : undefined
    dir = swarmFixture()
    cleanSwarm()
    deploySibling()
    for (let i = 0; i < 40 && !siblingStarts().some((s) => s.endsWith(' running')); i++) await sleep(250)
    sibling = siblingStarts()
    expect(sibling.filter((s) => s.endsWith(' running'))).toHaveLength(1)
  }, 120_000)

  afterAll(() => {
    cleanSwarm()
    if (dockerConfig === undefined) rmSync(DOCKER_CONFIG_FILE, { force: true })
    else writeFileSync(DOCKER_CONFIG_FILE, dockerConfig)
  }, 120_000)

  it('deploys staging and production as stacks side by side, each image pushed and pinned by digest', async () => {
    const v = bumpVersion()
    const staging = berth(dir, ['deploy', 'staging'])
    expect(staging.code, staging.stderr).toBe(0)
    expect(staging.stderr).toMatch(/push \S+ to 127\.0\.0\.1:5000/)
    // compose's order kept: web waits on store being healthy and on the migrate job, so it comes in a later wave.
    expect(staging.stderr).toMatch(/to stack berthswarm-staging \(migrate, store\)[\s\S]*to stack berthswarm-staging \(web\)/)
    const production = berth(dir, ['deploy', 'production'])
    expect(production.code, production.stderr).toBe(0)
    // registry_login: docker login with the env file's user, the password on stdin, never in any output.
    expect(production.stderr).toContain('log in to 127.0.0.1:5000 as berth-deployer')
    expect(`${production.stdout}${production.stderr}`).not.toContain(REGISTRY_PASSWORD)
    expect(readFileSync(DOCKER_CONFIG_FILE, 'utf8')).toContain('"127.0.0.1:5000"')

    for (const env of ['staging', 'production'] as const) {
      const images = stackImages(`${APP}-${env}`)
      expect(Object.keys(images).sort()).toEqual(['migrate', 'store', 'web'])
      for (const image of Object.values(images)) expect(image).toMatch(new RegExp(`^127\\.0\\.0\\.1:5000/${APP}-(web|store|migrate):\\d{8}-\\d{6}@sha256:[0-9a-f]{64}$`))
      expect(await body(env, '/version')).toBe(v)
      expect(await body(env, '/env')).toBe(env)
      // The record holds the exact stack file applied, with the same pinned images.
      const record = releases(env)[0] as Release
      expect(record.configFile).toMatch(/\.stack\.yaml$/)
      const recorded = readFileSync(join(HOST_STATE_ROOT, APP, env, 'releases', record.configFile), 'utf8')
      for (const image of Object.values(images)) expect(recorded).toContain(image)
    }
    // Pushed: the registry has the release's tags.
    expect(existsSync(join(REGISTRY_ROOT_B, 'docker', 'registry', 'v2', 'repositories', `${APP}-web`, '_manifests', 'tags', activeTag('staging') as string))).toBe(true)
    const status = berth(dir, ['status', 'staging'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/web\s+replicated\s+1\/1\s+running 1\s+18961->8080\/tcp \(host\)/)
    expect(status.stdout).toMatch(/migrate\s+job\s+1\/1\s+complete 1\s/)
    expect(status.stdout).toContain('drift: none')
    expect(siblingStarts()).toEqual(sibling)
  }, 180_000)

  it("promotes staging's release to production by its recorded digests, building nothing, with the tag's images gone from the engine", async () => {
    const tag = activeTag('staging') as string
    // As on a manager that never built it: the engine keeps only what its tasks were pulled by (digests).
    for (const service of ['web', 'store', 'migrate']) dockerB('image', 'rm', '--force', `127.0.0.1:5000/${APP}-${service}:${tag}`)
    expect(dockerB('image', 'ls', '--quiet', `127.0.0.1:5000/${APP}-web:${tag}`)).toBe('')
    // Nothing is built: no tagged image appears (a task may pull an image back by digest, untagged).
    const imageIds = () => dockerB('image', 'ls', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}').split('\n').filter((l) => !l.endsWith(':<none>')).sort()
    const imagesBefore = imageIds()
    const r = berth(dir, ['deploy', 'production', '--tag', tag])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/\bbuild\b/)
    expect(stackImages(`${APP}-production`)).toEqual(stackImages(`${APP}-staging`))
    expect(imageIds()).toEqual(imagesBefore)
    expect(await body('production', '/version')).toBe(`v${version}`)
    expect(siblingStarts()).toEqual(sibling)
  }, 120_000)

  it('rolls back two releases, to their images and their config', async () => {
    const first = activeTag('staging') as string
    const firstImages = stackImages(`${APP}-staging`)
    bumpVersion()
    setEnv('staging', 'APP_ENV', 'staging-second')
    expect(berth(dir, ['deploy', 'staging']).code).toBe(0)
    bumpVersion()
    setEnv('staging', 'APP_ENV', 'staging-third')
    expect(berth(dir, ['deploy', 'staging']).code).toBe(0)
    expect(await body('staging', '/env')).toBe('staging-third')

    const r = berth(dir, ['rollback', 'staging', '--to', first])
    expect(r.code, r.stderr).toBe(0)
    expect(stackImages(`${APP}-staging`)).toEqual(firstImages)
    expect(await body('staging', '/version')).toBe('v1')
    // The config the release ran with, not the env file's current one.
    expect(await body('staging', '/env')).toBe('staging')
    expect(activeTag('staging')).toBe(first)
    setEnv('staging', 'APP_ENV', 'staging')
    expect(siblingStarts()).toEqual(sibling)
  }, 180_000)

  it('catches a release Swarm rolled back though stack deploy succeeded, re-deploys the previous record, exit 3', async () => {
    const before = activeTag('staging') as string
    const health = join(dir, 'web', 'www', 'health')
    const saved = readFileSync(health)
    rmSync(health)
    bumpVersion()
    const r = berth(dir, ['deploy', 'staging'])
    writeFileSync(health, saved)
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr).toMatch(/service web failed: Swarm rolled its update back/)
    expect(r.stderr).toMatch(/last \d+ log lines of web/)
    expect(r.stderr).not.toContain('fixture-staging-token-4f9c')
    expect(r.stderr).toContain(`rolled back to ${before}`)
    expect(activeTag('staging')).toBe(before)
    expect(releases('staging')[0]?.status).toBe('failed')
    expect(await body('staging', '/version')).toBe('v1')
    expect(siblingStarts()).toEqual(sibling)
  }, 300_000)

  it('fails a release whose one-off job fails, before web is touched, and returns to the previous record, exit 3', async () => {
    const before = activeTag('staging') as string
    const webBefore = stackImages(`${APP}-staging`).web
    setEnv('staging', 'MIGRATE_EXIT', '3')
    bumpVersion()
    const r = berth(dir, ['deploy', 'staging'])
    setEnv('staging', 'MIGRATE_EXIT', '0')
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr).toMatch(/service migrate failed: its job did not complete/)
    expect(r.stderr).toMatch(/task \w+ failed: task: non-zero exit \(3\)/)
    expect(r.stderr).not.toMatch(/apply \S+ to stack berthswarm-staging \(web\)\n[\s\S]*rolling staging back/)
    expect(stackImages(`${APP}-staging`).web).toBe(webBefore)
    expect(activeTag('staging')).toBe(before)
    expect(await body('staging', '/version')).toBe('v1')
    expect(siblingStarts()).toEqual(sibling)
  }, 180_000)

  it("drops staging's old releases and deletes their tags from the registry, never a digest a kept release of any environment runs", async () => {
    const promoted = activeTag('production') as string
    const before = releases('staging').map((r) => r.tag)
    const deployYml = join(dir, 'deploy.yml')
    const text = readFileSync(deployYml, 'utf8')
    writeFileSync(deployYml, text.replace(/^  staging:\n/m, '  staging:\n    keep: 2\n'))
    bumpVersion()
    const r = berth(dir, ['deploy', 'staging'])
    writeFileSync(deployYml, text)
    expect(r.code, r.stderr).toBe(0)
    const kept = releases('staging').map((x) => x.tag)
    // The newest two (the new one and the failed one before it) and the previous one, which production runs too.
    expect(kept).toEqual([activeTag('staging'), before[0], promoted])
    const dropped = before.filter((tag) => !kept.includes(tag) && tag !== promoted)
    expect(dropped.length).toBeGreaterThan(1)
    expect(r.stderr).toMatch(new RegExp(`retention: deleted from 127\\.0\\.0\\.1:5000: .*${APP}-web@sha256:`))
    const tagged = (service: string, tag: string) => existsSync(join(REGISTRY_ROOT_B, 'docker', 'registry', 'v2', 'repositories', `${APP}-${service}`, '_manifests', 'tags', tag, 'current', 'link'))
    // Each release's images differ (berth labels them with their release): the dropped ones' tags are gone,
    // failed releases' included (recorded unpinned, their digests asked of the registry).
    for (const service of ['web', 'store', 'migrate']) {
      for (const tag of dropped) expect(tagged(service, tag), `${service}:${tag}`).toBe(false)
      // What staging keeps and what production runs (promoted from staging) stay.
      for (const tag of [...kept, promoted]) expect(tagged(service, tag), `${service}:${tag}`).toBe(true)
    }
    expect(await body('production', '/version')).toBe('v1')
    expect(siblingStarts()).toEqual(sibling)
  }, 180_000)

  it('refuses before anything changes on either engine or the registry (exit 2)', () => {
    expectSwarmRefused(['deploy', 'lonely'], /lonely has target: swarm, but the local engine is not in a swarm/)
    expectSwarmRefused(['deploy', 'noreg'], /noreg runs on Swarm and builds .*but names no registry/)
    expectSwarmRefused(['deploy', 'deadreg'], /registry 127\.0\.0\.1:5999 of deadreg does not answer from ssh:\/\/root@10\.231\.0\.2/)
    expectSwarmRefused(['deploy', 'nologin'], /registry_login of nologin names NOPE_USER and NOPE_PASSWORD, which are not set in/)
    expectSwarmRefused(['deploy', 'clash'], new RegExp(`host port ${SIBLING_PORT}/tcp \\(service web\\) is already published by`))
    expect(siblingStarts()).toEqual(sibling)
  }, 120_000)

  it('sees a service changed by hand as drift, reads logs, and takes one stack down without touching the other', async () => {
    dockerB('service', 'update', '--detach', '--env-add', 'BY_HAND=1', `${APP}-staging_store`)
    const status = berth(dir, ['status', 'staging'])
    expect(status.stdout).toMatch(/store\s+-\s+its spec differs from release \S+: changed by hand/)
    const logs = berth(dir, ['logs', 'staging', 'web', '--tail', '5'])
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toMatch(/web: v\d+ for staging token=\*+/)
    expect(logs.stdout).not.toContain('fixture-staging-token-4f9c')

    const productionImages = stackImages(`${APP}-production`)
    const down = berth(dir, ['down', 'staging'])
    expect(down.code, down.stderr).toBe(0)
    expect(stackImages(`${APP}-staging`)).toEqual({})
    expect(dockerB('network', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${APP}-staging`)).toBe('')
    // Volumes are node-local and kept without --volumes.
    expect(dockerB('volume', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${APP}-staging`)).toContain(`${APP}-staging_data`)
    expect(stackImages(`${APP}-production`)).toEqual(productionImages)
    expect(await body('production', '/version')).toBe(`v1`)
    expect(siblingStarts()).toEqual(sibling)
  }, 120_000)
})

