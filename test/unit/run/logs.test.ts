import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { configPath } from '../../../src/state/paths.js'
import { app, collect, deployedStaging, fakeDeps, SECRET, useApp } from '../support/operated.js'
import { logs } from '../../../src/run/logs.js'

useApp()

describe('logs', () => {
  it('streams the recorded app.config of the active release, every line masked, multi-line secrets line by line', async () => {
    const tag = await deployedStaging()
    const { deps, calls } = fakeDeps({ lines: [`\x1b[2Kweb-1 | token=${SECRET}`, 'web-1 | line-two-of-key'] })
    const sink = collect()
    const result = await logs({ config: app.config, envName: 'staging', service: 'web', follow: true, tail: 10 }, deps, sink)
    expect(result).toEqual({ environment: 'staging', project: 'shop-staging', release: tag, containers: 2 })
    expect(sink.out).toEqual(['web-1 | token=****', 'web-1 | ****'])
    expect(sink.err).toEqual(['warning: **** seen'])
    const logsCall = calls.find((c) => c.argv.includes('logs'))
    expect(logsCall?.argv).toEqual([
      'docker', 'compose', '--project-name', 'shop-staging', '--project-directory', app.dir,
      '--file', configPath(app.config.stateDir, 'staging', `${tag}.compose.yaml`), '--env-file', join(app.dir, 'environments', 'staging.env'),
      'logs', '--no-color', '--tail', '10', '--follow', 'web',
    ])
  })

  it('uses the operator\'s compose files when nothing is recorded', async () => {
    const { deps, calls } = fakeDeps()
    await logs({ config: app.config, envName: 'staging', follow: false }, deps, collect())
    expect(calls.find((c) => c.argv.includes('logs'))?.argv).toContain(join(app.dir, 'compose.yaml'))
  })

  it('refuses an unknown service, naming the known ones, before reading any log', async () => {
    await deployedStaging()
    const { deps, calls } = fakeDeps()
    await expect(logs({ config: app.config, envName: 'staging', service: 'db', follow: false }, deps, collect())).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE', exitCode: 2, hint: 'Services of staging: store, web' })
    expect(calls.some((c) => c.argv.includes('logs'))).toBe(false)
  })

  it('says so when the environment has no containers, without running compose logs', async () => {
    const { deps, calls, warnings } = fakeDeps({ containers: [] })
    const result = await logs({ config: app.config, envName: 'staging', follow: true }, deps, collect())
    expect(result.containers).toBe(0)
    expect(warnings.join()).toContain('staging has no containers')
    expect(calls.some((c) => c.argv.includes('logs'))).toBe(false)
  })
})
