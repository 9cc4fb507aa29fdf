import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, docker, appStateHere, filesUnder, httpGet, requireEngine } from './engine.js'
import { cleanAppB, dockerB, HOST_B, HOST_B_ADDR, HOST_STATE_ROOT, requireHostB } from './hostB.js'

/**
 * Promotion across engines (SPEC §10): staging runs on this machine's engine, production on the second host.
 * `deploy production --tag T` of a release staging built streams T's images to host B (docker save | docker
 * load, no registry) and runs the same image IDs there; nothing is built on host B. The other way round too.
 */

const APP = 'berthpromo'
const ENVS = ['staging', 'production', 'qa']
const PORTS = { staging: 18891, production: 18892 }
let dir: string
let built = ''

function activeTag(env: string): string {
  const r = berth(dir, ['releases', env, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { releases: { tag: string; status: string }[] }).releases.find((x) => x.status === 'active')?.tag ?? ''
}

const refsOf = (tag: string) => [`${APP}-web:${tag}`, `${APP}-store:${tag}`]
/** ID and creation time of each image: a rebuild would change both. */
const identity = (inspect: (...args: string[]) => string, tag: string) => inspect('image', 'inspect', '--format', '{{.Id}} {{.Created}}', ...refsOf(tag)).split('\n')

/** Host B's objects and the app's state there: what a refused command must leave as it was. */
function hostBState(): Record<string, unknown> {
  const stateDir = join(HOST_STATE_ROOT, APP)
  return {
    containers: dockerB('ps', '--all', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.CreatedAt}}').split('\n').sort(),
    images: dockerB('image', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}').split('\n').sort(),
    networks: dockerB('network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}').split('\n').sort(),
    volumes: dockerB('volume', 'ls', '--format', '{{.Name}}').split('\n').sort(),
    state: filesUnder(stateDir).map((f) => `${f} ${createHash('sha256').update(readFileSync(join(stateDir, f))).digest('hex')}`),
  }
}

describe('promotion across engines', () => {
  beforeAll(() => {
    requireEngine()
    requireHostB()
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
    dir = copyFixtureAs(APP, PORTS)
    const deployYml = join(dir, 'deploy.yml')
    writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace('  production:\n', `  production:\n    host: ${HOST_B}\n`))
  })

  afterAll(() => {
    cleanApp(APP, ENVS)
    cleanAppB(APP, ENVS)
  })

  it('deploy production --tag of the release staging built here runs the same image IDs on host B, built nowhere', async () => {
    writeFileSync(join(dir, 'web', 'www', 'version'), 'promoted\n')
    const staging = berth(dir, ['deploy', 'staging'])
    expect(staging.code, staging.stderr).toBe(0)
    built = activeTag('staging')
    const here = identity(docker, built)
    const localImages = appStateHere(join(dir, '.berth'), APP).images

    const production = berth(dir, ['deploy', 'production', '--tag', built])

    expect(production.code, production.stderr).toBe(0)
    expect(production.stderr).toContain(`copy ${built}'s images from the local engine to ${HOST_B}`)
    expect(production.stderr).not.toMatch(/\bbuild\b/)
    expect(identity(dockerB, built)).toEqual(here)
    expect(dockerB('image', 'ls', '--filter', `label=berth.app=${APP}`, '--format', '{{.Repository}}:{{.Tag}}').split('\n').sort()).toEqual(refsOf(built).sort())
    expect(dockerB('inspect', '--format', '{{.Image}}', `${APP}-production-web-1`)).toBe(here[0]?.split(' ')[0])
    expect(appStateHere(join(dir, '.berth'), APP).images).toEqual(localImages)
    expect(await httpGet(`http://${HOST_B_ADDR}:${PORTS.production}/version`)).toEqual({ status: 200, body: 'promoted' })
    expect(await httpGet(`http://${HOST_B_ADDR}:${PORTS.production}/env`)).toEqual({ status: 200, body: 'production' })
    expect(activeTag('production')).toBe(built)
  }, 180_000)

  it('--tag of a release no engine has: exit 2, nothing changed on either engine', () => {
    const localBefore = appStateHere(join(dir, '.berth'), APP)
    const hostBBefore = hostBState()

    const r = berth(dir, ['deploy', 'production', '--tag', '20200101-000000'])

    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(`not on ${HOST_B}, and no other environment's engine has all of 20200101-000000's images`)
    expect(r.stderr).toContain(`Releases with images on ${HOST_B}: ${built}`)
    expect(r.stderr).not.toContain('copy ')
    expect(appStateHere(join(dir, '.berth'), APP)).toEqual(localBefore)
    expect(hostBState()).toEqual(hostBBefore)
  }, 60_000)

  it('an engine that does not answer neither holds up a promotion that does not need it nor hides why one is refused', () => {
    // qa's host refuses connections: it cannot be asked for images, and nothing needs it to be.
    writeFileSync(join(dir, 'env', 'qa.env'), 'WEB_PORT=18893\nAPP_ENV=qa\nSECRET_TOKEN=fixture-qa-token-0c4e\n')
    const withQa = join(dir, 'deploy-qa.yml')
    writeFileSync(withQa, `${readFileSync(join(dir, 'deploy.yml'), 'utf8')}  qa:\n    env_file: env/qa.env\n    host: ssh://root@${HOST_B_ADDR}:2299\n    connect_timeout: 3s\n`)
    writeFileSync(join(dir, 'web', 'www', 'version'), 'promoted-again\n')
    expect(berth(dir, ['deploy', 'staging']).code).toBe(0)
    const next = activeTag('staging')

    const refused = berth(dir, ['deploy', 'production', '--config', withQa, '--tag', '20200101-000000'])
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toMatch(new RegExp(`could not ask ssh://root@${HOST_B_ADDR.replace(/\./g, '\\.')}:2299 for 20200101-000000's images: .*connection was refused`))
    expect(refused.stderr).toContain(`ssh://root@${HOST_B_ADDR}:2299 could not be asked`)

    const promoted = berth(dir, ['deploy', 'production', '--config', withQa, '--tag', next])
    expect(promoted.code, promoted.stderr).toBe(0)
    expect(promoted.stderr).toContain(`copy ${next}'s images from the local engine to ${HOST_B}`)
    expect(identity(dockerB, next)).toEqual(identity(docker, next))
  }, 180_000)

  it('the other way round: a release built on host B promoted to staging here', async () => {
    writeFileSync(join(dir, 'web', 'www', 'version'), 'built-on-b\n')
    const production = berth(dir, ['deploy', 'production'])
    expect(production.code, production.stderr).toBe(0)
    const onB = activeTag('production')
    const there = identity(dockerB, onB)

    const staging = berth(dir, ['deploy', 'staging', '--tag', onB])

    expect(staging.code, staging.stderr).toBe(0)
    expect(staging.stderr).toContain(`copy ${onB}'s images from ${HOST_B} to the local engine`)
    expect(identity(docker, onB)).toEqual(there)
    expect(await httpGet(`http://127.0.0.1:${PORTS.staging}/version`)).toEqual({ status: 200, body: 'built-on-b' })
  }, 180_000)
})
