import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, docker, expectRefused, requireEngine } from './engine.js'

/**
 * Networks on a real engine: a shared external network (seed 004's `platform`) must never answer one name for
 * two environments unless the environment accepts it, and a deploy that needs a network the engine's address
 * pools cannot give is refused before anything changes.
 */

const APP = 'berthnet'
const ENVS = ['staging', 'production', 'qa']
const PLATFORM = 'berthnet-platform'
const LABEL = 'berthnet.test=1'
let dir: string

interface StatusJson {
  environments: { environment: string; sharedNames?: { network: string; service: string; holder: string; accepted: boolean }[] }[]
}
interface DoctorJson {
  checks: { id: string; status: string; summary: string; details: string[] }[]
}

/** The addresses a client on the platform network gets for `web`, asked with busybox nslookup from the app's own image. */
function lookupWeb(): string[] {
  const image = docker('image', 'ls', '--filter', `label=berth.app=${APP}`, '--filter', 'label=berth.service=web', '--format', '{{.Repository}}:{{.Tag}}').split('\n')[0] as string
  const r = spawnSync('docker', ['run', '--rm', '--label', LABEL, '--network', PLATFORM, '--entrypoint', 'nslookup', image, 'web'], { encoding: 'utf8' })
  // busybox prints the server first ("Address: 127.0.0.11:53"), then "Name: web" and "Address: …" per answer.
  return [...new Set([...r.stdout.matchAll(/^Address:\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1] as string))].sort()
}

function ipOf(project: string, network: string): string {
  const id = docker('ps', '--quiet', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=web')
  return docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, id)
}

function doctorCheck(id: string): DoctorJson['checks'][number] {
  const report = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as DoctorJson
  const check = report.checks.find((c) => c.id === id)
  if (!check) throw new Error(`no check ${id}`)
  return check
}

function removeTestNetworks(): void {
  const ids = docker('network', 'ls', '--quiet', '--filter', `label=${LABEL}`).split('\n').filter(Boolean)
  if (ids.length) spawnSync('docker', ['network', 'rm', ...ids], { stdio: 'ignore' })
}

describe('networks on a real engine', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ENVS)
    removeTestNetworks()
    dir = copyFixtureAs(APP, { staging: 18641, production: 18642 })
    // staging and production join a platform network created by hand, as seed 004's nginx one was; qa does not.
    writeFileSync(
      join(dir, 'compose.platform.yaml'),
      `services:\n  web:\n    networks: [default, platform]\nnetworks:\n  platform:\n    name: ${PLATFORM}\n    external: true\n`,
    )
    writeFileSync(join(dir, 'env', 'qa.env'), 'WEB_PORT=18643\nAPP_ENV=qa\nSECRET_TOKEN=fixture-qa-token-51d0\n')
    const yml = readFileSync(join(dir, 'deploy.yml'), 'utf8')
      .replace('    env_file: env/staging.env', '    env_file: env/staging.env\n    compose: [compose.platform.yaml]')
      .replace('    env_file: env/production.env', '    env_file: env/production.env\n    compose: [compose.platform.yaml]')
    writeFileSync(join(dir, 'deploy.yml'), `${yml}  qa:\n    env_file: env/qa.env\n    required: [SECRET_TOKEN]\n`)
    docker('network', 'create', '--label', LABEL, PLATFORM)
  }, 120_000)

  afterAll(() => {
    cleanApp(APP, ENVS)
    removeTestNetworks()
  })

  it('refuses the deploy that would make a second answer to web on the shared network, changing nothing', () => {
    const first = berth(dir, ['deploy', 'staging'])
    expect(first.code, first.stderr).toBe(0)
    expect(lookupWeb()).toEqual([ipOf(`${APP}-staging`, PLATFORM)])

    const r = expectRefused(dir, ['deploy', 'production'], 2, /web would answer as "web" on the shared network berthnet-platform, where compose project berthnet-staging \(berth environment staging\)/)
    expect(r.stderr).toMatch(/hint: .*name: platform-\$\{APP_ENV\}, external: true.*shared_networks: \[berthnet-platform\] under environments\.production/)
    // Still one answer: the refused deploy created nothing.
    expect(lookupWeb()).toEqual([ipOf(`${APP}-staging`, PLATFORM)])
  })

  it('deploys an environment that lists the network under shared_networks, and status and doctor warn', () => {
    const file = join(dir, 'deploy.yml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('    env_file: env/production.env', `    env_file: env/production.env\n    shared_networks: [${PLATFORM}]`))
    const r = berth(dir, ['deploy', 'production'])
    expect(r.code, r.stderr).toBe(0)
    // The sharing it accepted, seen by a real client of the network: both environments answer.
    expect(lookupWeb()).toEqual([ipOf(`${APP}-staging`, PLATFORM), ipOf(`${APP}-production`, PLATFORM)].sort())

    const status = JSON.parse(berth(dir, ['status', '--json']).stdout) as StatusJson
    const byEnv = Object.fromEntries(status.environments.map((e) => [e.environment, e.sharedNames ?? []]))
    expect(byEnv.production).toEqual([expect.objectContaining({ network: PLATFORM, service: 'web', accepted: true, holder: expect.stringContaining('berth environment staging') })])
    expect(byEnv.staging).toEqual([expect.objectContaining({ network: PLATFORM, service: 'web', accepted: false })])
    expect(byEnv.qa).toEqual([])
    expect(berth(dir, ['status']).stdout).toMatch(/warning: web answers as "web" on the shared network berthnet-platform, and so does .*berth environment staging.* \(accepted: shared_networks\)/)
    expect(doctorCheck('shared-networks')).toMatchObject({ status: 'warn', details: expect.arrayContaining([expect.stringMatching(/^production: web answers as "web"/)]) })
  })

  it('refuses a deploy that needs a network once the address pools are full, and doctor counts what still fits', () => {
    // Fill the pools with networks of this test until the engine itself refuses one.
    const fill: string[] = []
    for (let i = 0; i < 600; i++) {
      const name = `berthnet-fill-${i}`
      const r = spawnSync('docker', ['network', 'create', '--label', LABEL, name], { encoding: 'utf8' })
      if (r.status !== 0) {
        expect(r.stderr).toMatch(/could not find an available, non-overlapping IPv4 address pool/)
        break
      }
      fill.push(name)
    }
    expect(doctorCheck('network-pools')).toMatchObject({ status: 'warn', summary: expect.stringMatching(/^0 more networks fit in the engine's address pools \(\d+ of \d+ in use\)$/) })

    const r = expectRefused(dir, ['deploy', 'qa'], 2, /qa needs 1 new network \(berthnet-qa_default\), but the engine's address pools are full: they hold \d+ networks and \d+ are in use/)
    expect(r.stderr).toContain('"default-address-pools"')

    // What doctor says fits is what the engine then gives: three, and not a fourth.
    docker('network', 'rm', ...fill.splice(-3))
    expect(doctorCheck('network-pools').summary).toMatch(/^3 more networks fit/)
    for (let i = 0; i < 3; i++) docker('network', 'create', '--label', LABEL, `berthnet-refill-${i}`)
    expect(spawnSync('docker', ['network', 'create', '--label', LABEL, 'berthnet-refill-3']).status).not.toBe(0)
  })

  it('goes past full pools with network_pool: a subnet of its own for each network, kept on the next deploy', () => {
    // The engine's pools are still full (the test before filled them).
    expect(spawnSync('docker', ['network', 'create', '--label', LABEL, 'berthnet-still-full']).status).not.toBe(0)
    const file = join(dir, 'deploy.yml')
    const yml = readFileSync(file, 'utf8')
    // A pool that overlaps the engine's own pools is what doctor fails.
    writeFileSync(file, `${yml}network_pool:\n  base: 172.16.0.0/12\n  size: 26\n`)
    expect(doctorCheck('network-pools')).toMatchObject({ status: 'fail', details: expect.arrayContaining([expect.stringMatching(/^overlaps 172\.\d+\.0\.0\/\d+ \(an address pool of the engine\)$/)]) })

    writeFileSync(file, `${yml}network_pool:\n  base: 10.240.0.0/16\n  size: 26\n`)
    expect(doctorCheck('network-pools')).toMatchObject({ status: 'ok', summary: 'network_pool 10.240.0.0/16 in /26s has room for 1024 more networks' })
    const r = berth(dir, ['deploy', 'qa'])
    expect(r.code, r.stderr).toBe(0)
    const subnet = () => docker('network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', `${APP}-qa_default`)
    const first = subnet()
    expect(first).toMatch(/^10\.240\.\d+\.(0|64|128|192)\/26$/)
    expect(ipOf(`${APP}-qa`, `${APP}-qa_default`).startsWith(first.split('.').slice(0, 3).join('.'))).toBe(true)
    expect(doctorCheck('network-pools').summary).toBe('network_pool 10.240.0.0/16 in /26s has room for 1023 more networks')

    expect(berth(dir, ['deploy', 'qa']).code).toBe(0)
    expect(subnet()).toBe(first)
  }, 120_000)
})
