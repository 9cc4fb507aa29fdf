import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import { lockPath } from '../../../src/state/lock.js'
import { releasesPath, writeReleases } from '../../../src/state/releases.js'
import { damagedState } from '../../../src/state/damage.js'
import { environmentConfig } from '../fixtures.js'
import { coloursPath, writeColours } from '../../../src/state/colours.js'
import { localState } from '../../../src/target/local.js'

let dir: string
let config: Config
let recreate: EnvironmentConfig
let blueGreen: EnvironmentConfig
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-damage-'))
  recreate = environmentConfig('staging', dir)
  blueGreen = { ...environmentConfig('production', dir), strategy: 'blue-green', routes: [{ listen: 8080, service: 'web', port: 8080, tls: 'off' }] }
  config = { app: 'shop', file: join(dir, 'deploy.yml'), dir, stateDir: join(dir, '.berth'), edge: { image: 'caddy:2' }, environments: new Map([['staging', recreate], ['production', blueGreen]]) }
  for (const env of ['staging', 'production']) await writeReleases(localState(config.stateDir), env, [])
  await writeColours(localState(config.stateDir), 'production', { upstreams: { blue: {}, green: {} } })
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('damagedState', () => {
  it('lists every damaged file of an environment: records, colour state and lock', async () => {
    expect(await damagedState(localState(config.stateDir), 'production')).toEqual([])
    await writeFile(releasesPath(config.stateDir, 'production'), '[]')
    await writeFile(coloursPath(config.stateDir, 'production'), '{"upstreams": 5}')
    await writeFile(lockPath(config.stateDir, 'production'), '{')
    expect((await damagedState(localState(config.stateDir), 'production')).map((d) => d.file)).toEqual([
      releasesPath(config.stateDir, 'production'),
      coloursPath(config.stateDir, 'production'),
      lockPath(config.stateDir, 'production'),
    ])
  })

  it('does not count an empty lock: it is what a run killed while taking the lock leaves', async () => {
    await writeFile(lockPath(config.stateDir, 'staging'), '')
    expect(await damagedState(localState(config.stateDir), 'staging')).toEqual([])
  })
})
