import { describe, expect, it } from 'vitest'

import { expiresAt, isExpired } from '../../../src/state/preview.js'

describe('preview expiry (SPEC §11)', () => {
  const record = { lastDeployAt: '2026-12-01T10:00:00.000Z' }
  const DAY = 86_400_000

  it('expires its ttl after the last deploy', () => {
    expect(expiresAt(record, 3 * DAY)?.toISOString()).toBe('2026-12-04T10:00:00.000Z')
    expect(isExpired(record, 3 * DAY, new Date('2026-12-04T09:59:59.999Z'))).toBe(false)
    expect(isExpired(record, 3 * DAY, new Date('2026-12-04T10:00:00.000Z'))).toBe(true)
  })

  it('never expires without a ttl', () => {
    expect(expiresAt(record, undefined)).toBeUndefined()
    expect(isExpired(record, undefined, new Date('2036-01-01T00:00:00.000Z'))).toBe(false)
  })
})
