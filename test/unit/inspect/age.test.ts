import { describe, expect, it } from 'vitest'

import { environmentAge } from '../../../src/inspect/status.js'
import type { ReleaseRecord } from '../../../src/state/releases.js'
import { formatSpan } from '../../../src/ui/format.js'
import { environmentConfig } from '../fixtures.js'

const record = (tag: string, deployedAt: string): ReleaseRecord => ({
  tag,
  deployedAt,
  by: 'ops@host',
  status: 'superseded',
  images: {},
  builtImages: [],
  envHash: 'x',
  configFile: `${tag}.compose.yaml`,
})

const NOW = new Date('2026-12-03T12:00:00.000Z')

describe('environment age and expiry (SPEC §11)', () => {
  it("dates a literal environment from its oldest and newest kept releases; it never expires", () => {
    const env = environmentConfig('staging', '/tmp/app')
    const releases = [record('b', '2026-12-02T12:00:00.000Z'), record('a', '2026-12-01T12:00:00.000Z')]
    expect(environmentAge(env, releases, undefined, NOW)).toEqual({ createdAt: '2026-12-01T12:00:00.000Z', ageMs: 2 * 86_400_000, lastDeployAt: '2026-12-02T12:00:00.000Z' })
    expect(environmentAge(env, [], undefined, NOW)).toBeUndefined()
  })

  it("dates a preview from its record, and expires it its ttl after its last deploy", () => {
    const base = environmentConfig('preview-1', '/tmp/app')
    const env = { ...base, preview: { pattern: 'preview-*', template: '/tmp/app/t', portCount: 0, ttlMs: 3_600_000 } }
    const preview = { pattern: 'preview-*', createdAt: '2026-12-03T10:00:00.000Z', lastDeployAt: '2026-12-03T11:30:00.000Z', ports: [] }
    expect(environmentAge(env, [record('a', '2026-12-03T10:00:01.000Z')], preview, NOW)).toEqual({
      createdAt: '2026-12-03T10:00:00.000Z',
      ageMs: 2 * 3_600_000,
      lastDeployAt: '2026-12-03T11:30:00.000Z',
      pattern: 'preview-*',
      expiresAt: '2026-12-03T12:30:00.000Z',
      expired: false,
    })
    expect(environmentAge(env, [], { ...preview, lastDeployAt: '2026-12-03T11:00:00.000Z' }, NOW)?.expired).toBe(true)
    expect(environmentAge({ ...env, preview: { ...env.preview, ttlMs: undefined } }, [], preview, NOW)?.expiresAt).toBeUndefined()
  })

  it.each([
    [0, '0s'],
    [999, '0s'],
    [12_400, '12s'],
    [250_000, '4m 10s'],
    [7_500_000, '2h 5m'],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, '3d 4h'],
    [86_400_000 + 30_000, '1d'],
  ])('shows %d ms as %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text)
  })
})
