import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, requireEngine } from './engine.js'

/**
 * SPEC §8 with a secret that spans lines (a PEM key in the env file): every path that prints or logs masks every
 * line of it, not only the whole value. Container logs and compose's own output arrive one line at a time.
 */

const APP = 'berthpem'
const ENVS = ['staging', 'production']
const PEM_LINES = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDf1xk9berthpem',
  'q2Lz8Vh3Tt0aNw6YcJ4sUe7dWm1pXo5RbKg2fC9iHj0lMnOpQrStUvWxYz4berth',
  '-----END PRIVATE KEY-----',
]
let dir: string

function expectNoPemLine(text: string): void {
  for (const line of PEM_LINES) expect(text).not.toContain(line)
}

describe('a multi-line secret on a real engine', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ENVS)
    dir = copyFixtureAs(APP, { staging: 18651, production: 18652 })
    const envFile = join(dir, 'env', 'staging.env')
    // The fixture's web prints SECRET_TOKEN at start, so its logs carry the key line by line.
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^SECRET_TOKEN=.*$/m, `SECRET_TOKEN="${PEM_LINES.join('\n')}"`))
  }, 120_000)

  afterAll(() => cleanApp(APP, ENVS))

  it("masks every line of it in a failed deploy's container logs", () => {
    const first = berth(dir, ['deploy', 'staging'])
    expect(first.code, first.stderr).toBe(0)
    // A release whose web never turns healthy: deploy shows its last log lines, then rolls back.
    rmSync(join(dir, 'web', 'www', 'health'))
    const failed = berth(dir, ['deploy', 'staging'])
    expect(failed.code, failed.stderr).toBe(3)
    expect(failed.stderr).toMatch(/log lines of web/)
    expect(failed.stderr).toMatch(/token=\*\*\*\*/)
    expectNoPemLine(failed.stdout + failed.stderr)
    // Two deploys, the second waiting out a web that never turns healthy: more than vitest's 20s on a loaded host.
  }, 90_000)

  it('masks every line of it in compose -- config and in logs', () => {
    const config = berth(dir, ['compose', 'staging', '--', 'config'])
    expect(config.code, config.stderr).toBe(0)
    expect(config.stdout).toContain('SECRET_TOKEN')
    expectNoPemLine(config.stdout + config.stderr)
    const logs = berth(dir, ['logs', 'staging', 'web'])
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toMatch(/token=\*\*\*\*/)
    expectNoPemLine(logs.stdout + logs.stderr)
  })
})
