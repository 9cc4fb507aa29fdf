import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Config, EnvironmentConfig } from '../../../src/config/types.js'
import { releasesPath, writeReleases } from '../../../src/state/releases.js'
import { refuseDamagedState as refuse } from '../../../src/run/stateCheck.js'
import { StateDamagedError } from '../../../src/errors.js'
import { testDeps } from '../support/deps.js'
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

// No edge runs on the fake engine: blue-green's check of the edge finds nothing to refuse.
const refuseDamagedState = (config: Config, env: EnvironmentConfig) => refuse(testDeps({ stateDir: config.stateDir, run: async () => ({ stdout: '', stderr: '', exitCode: 0 }) }), config, env)

describe('refuseDamagedState', () => {
  it('passes state that reads, and an environment with none yet', async () => {
    await expect(refuseDamagedState(config, recreate)).resolves.toBeUndefined()
    await expect(refuseDamagedState(config, blueGreen)).resolves.toBeUndefined()
    await rm(config.stateDir, { recursive: true })
    await expect(refuseDamagedState(config, blueGreen)).resolves.toBeUndefined()
  })

  it('refuses damaged records, and for blue-green damaged colour state', async () => {
    await writeFile(releasesPath(config.stateDir, 'staging'), '{')
    await expect(refuseDamagedState(config, recreate)).rejects.toBeInstanceOf(StateDamagedError)
    await writeFile(coloursPath(config.stateDir, 'production'), '')
    await expect(refuseDamagedState(config, blueGreen)).rejects.toMatchObject({ code: 'STATE_DAMAGED', file: coloursPath(config.stateDir, 'production') })
  })
})

