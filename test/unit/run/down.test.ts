import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Deps } from '../../../src/run/context.js'
import { describe, expect, it } from 'vitest'

import { UsageError } from '../../../src/errors.js'
import { readReleases } from '../../../src/state/releases.js'
import { configPath } from '../../../src/state/paths.js'
import { app, deployedStaging, fakeDeps, useApp } from '../support/operated.js'
import { down } from '../../../src/run/down.js'
import { localState } from '../../../src/target/local.js'

useApp()

describe('down', () => {
  const request = (over: Partial<Parameters<typeof down>[0]> = {}) => ({ config: app.config, envName: 'staging', volumes: false, confirm: async () => true, command: 'berth down staging', ...over })

  it('downs the recorded app.config under the lock, demotes the active release to previous, and audits it', async () => {
    const tag = await deployedStaging()
    const { deps, calls } = fakeDeps()
    const result = await down(request(), deps)
    expect(result).toMatchObject({ environment: 'staging', project: 'shop-staging', release: tag, containers: ['shop-staging-store-1', 'shop-staging-web-1'], volumes: false })
    const downCall = calls.find((c) => c.argv.includes('down'))
    expect(downCall?.argv.slice(-2)).toEqual(['down', '--remove-orphans'])
    expect(downCall?.argv).toContain(configPath(app.config.stateDir, 'staging', `${tag}.compose.yaml`))
    expect((await readReleases(localState(app.config.stateDir), 'staging')).map((r) => r.status)).toEqual(['previous'])
    const audit = (await readFile(join(app.config.stateDir, 'staging', 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(audit).toEqual([{ action: 'down', by: expect.stringContaining('@') as unknown, at: '2026-11-22T10:00:00.000Z', result: 'ok', durationMs: 0, tag }])
    await expect(stat(join(app.config.stateDir, 'staging', 'lock'))).rejects.toThrow()
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
    await expect(stat(join(app.config.stateDir, 'production'))).rejects.toThrow()
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
    const audit = JSON.parse((await readFile(join(app.config.stateDir, 'staging', 'audit.log'), 'utf8')).trim()) as Record<string, unknown>
    expect(audit).toMatchObject({ action: 'down', result: 'USAGE', message: 'boom' })
    await expect(stat(join(app.config.stateDir, 'staging', 'lock'))).rejects.toThrow()
  })
})
