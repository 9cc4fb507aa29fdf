import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatTag, nextTag, TAG_PATTERN } from '../../../src/release/tag.js'

describe('formatTag', () => {
  const savedTz = process.env.TZ
  // A zone far from UTC, so a tag built from local time would differ in hour and day.
  beforeEach(() => {
    process.env.TZ = 'Pacific/Kiritimati'
  })
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ
    else process.env.TZ = savedTz
  })

  it('is the UTC time YYYYMMDD-HHMMSS', () => {
    expect(formatTag(new Date('2026-11-22T09:30:00Z'))).toBe('20261122-093000')
  })

  it('uses UTC, not the local zone, across a day boundary', () => {
    expect(new Date('2025-12-31T23:59:59Z').getDate()).toBe(1) // the local zone really is a day ahead
    expect(formatTag(new Date('2025-12-31T23:59:59Z'))).toBe('20251231-235959')
    expect(formatTag(new Date('2026-01-01T05:04:03+06:00'))).toBe('20251231-230403')
  })

  it('pads every field and ignores milliseconds', () => {
    expect(formatTag(new Date('2026-02-03T04:05:06.789Z'))).toBe('20260203-040506')
  })
})

describe('nextTag', () => {
  const at = new Date('2026-11-22T09:30:00Z')

  it('is the formatted time when free', () => {
    expect(nextTag(at, new Set())).toBe('20261122-093000')
    expect(nextTag(at, new Set(['20261122-092959', '20261122-093000-2']))).toBe('20261122-093000')
  })

  it('adds -2 when the second is taken', () => {
    expect(nextTag(at, new Set(['20261122-093000']))).toBe('20261122-093000-2')
  })

  it('adds -3 when -2 is taken too', () => {
    expect(nextTag(at, new Set(['20261122-093000', '20261122-093000-2']))).toBe('20261122-093000-3')
  })

  it('fills the first free number', () => {
    expect(nextTag(at, new Set(['20261122-093000', '20261122-093000-2', '20261122-093000-4']))).toBe('20261122-093000-3')
  })

  it('produces tags that match TAG_PATTERN', () => {
    expect(nextTag(at, new Set())).toMatch(TAG_PATTERN)
    expect(nextTag(at, new Set(['20261122-093000']))).toMatch(TAG_PATTERN)
  })
})

describe('TAG_PATTERN', () => {
  it('accepts release tags', () => {
    for (const tag of ['20261122-093000', '20261122-093000-2', '20261122-093000-13']) expect(TAG_PATTERN.test(tag)).toBe(true)
  })

  it('rejects anything else', () => {
    for (const tag of ['latest', '2026112-093000', '20261122093000', '20261122-09300', '20261122-093000-', '20261122-093000-x', 'v20261122-093000', '20261122-093000\n', ' 20261122-093000']) {
      expect(TAG_PATTERN.test(tag), tag).toBe(false)
    }
  })
})
