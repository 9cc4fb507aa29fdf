import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'

import { beforeEach, describe, expect, it } from 'vitest'

import { prune } from '../../../src/run/prune.js'
import { acquireLock } from '../../../src/state/lock.js'
import { writePreview } from '../../../src/state/preview.js'
import { silentReporter } from '../../../src/progress.js'
import { localRuns, localState } from '../../../src/target/local.js'
import { hashTree } from '../../e2e/engine.js'
import { app, environment, fakeDeps, useApp } from '../support/operated.js'

useApp()

const NOW = '2026-11-22T10:00:00.000Z'
const HOUR = 3_600_000

/** Three previews of preview-* (ttl 1h) beside staging: preview-1 and preview-3 expired, preview-2 deployed 10 minutes ago. */
beforeEach(async () => {
  const lastDeploys = { 'preview-1': '2026-11-22T08:00:00.000Z', 'preview-2': '2026-11-22T09:50:00.000Z', 'preview-3': '2026-11-22T08:30:00.000Z' }
  for (const [name, lastDeployAt] of Object.entries(lastDeploys)) {
    app.config.environments.set(name, environment(name, { preview: { pattern: 'preview-*', template: join(app.dir, 't'), portCount: 1, ports: { first: 41000, last: 41009 }, ttlMs: HOUR } }))
    await writeFile(join(app.dir, 'environments', `${name}.env`), `WEB_PORT=4100${name.at(-1)}\n`, { mode: 0o600 })
    await writePreview(localState(app.config.stateDir), name, { pattern: 'preview-*', createdAt: '2026-11-22T07:00:00.000Z', lastDeployAt, ports: [41000 + Number(name.at(-1))] })
  }
})

const request = (dryRun: boolean) => ({ config: app.config, dryRun, command: 'berth prune --expired' })

describe('prune --expired (SPEC §11)', () => {
  it('lists the expired previews with --dry-run and changes nothing, with no lock taken', async () => {
    const before = hashTree(app.dir)
    const { deps, calls } = fakeDeps()
    const result = await prune(request(true), { ...deps, now: () => new Date(NOW) })
    expect(result.pruned.map((p) => [p.environment, p.expiresAt])).toEqual([
      ['preview-1', '2026-11-22T09:00:00.000Z'],
      ['preview-3', '2026-11-22T09:30:00.000Z'],
    ])
    expect(result.skipped).toEqual([])
    expect(calls.some((c) => c.argv.includes('down'))).toBe(false)
    expect(hashTree(app.dir)).toEqual(before)
  })

  it('takes down each expired preview with its volumes and forgets it; skips a locked one; leaves the rest alone', async () => {
    await acquireLock(localState(app.config.stateDir), 'preview-3', { pid: process.pid, host: hostname(), by: 'alice@host', command: 'berth lock preview-3', startedAt: NOW, manual: true }, silentReporter, localRuns())
    const kept = { p2: hashTree(join(app.config.stateDir, 'preview-2')), p3: hashTree(join(app.config.stateDir, 'preview-3')) }
    const { deps, calls } = fakeDeps()
    const result = await prune(request(false), { ...deps, now: () => new Date(NOW) })

    expect(result.pruned.map((p) => p.environment)).toEqual(['preview-1'])
    expect(result.skipped).toEqual([{ environment: 'preview-3', reason: expect.stringContaining('preview-3 is locked by') as unknown }])
    const downs = calls.filter((c) => c.argv.includes('down'))
    expect(downs.map((c) => [c.argv[c.argv.indexOf('--project-name') + 1], ...c.argv.slice(-3)])).toEqual([['shop-preview-1', 'down', '--remove-orphans', '--volumes']])
    expect(existsSync(join(app.config.stateDir, 'preview-1'))).toBe(false)
    expect(existsSync(join(app.dir, 'environments', 'preview-1.env'))).toBe(false)
    expect({ p2: hashTree(join(app.config.stateDir, 'preview-2')), p3: hashTree(join(app.config.stateDir, 'preview-3')) }).toEqual(kept)
    for (const name of ['preview-2', 'preview-3', 'staging']) expect(existsSync(join(app.dir, 'environments', `${name}.env`))).toBe(true)
  })
})
