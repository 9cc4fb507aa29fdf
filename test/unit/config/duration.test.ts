import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../../src/config/duration.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['3d', 259_200_000],
    ['1d12h', 129_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['0s', 0],
    ['90', 90_000],
    ['1.5', 1_500],
    [90, 90_000],
    [0.25, 250],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['', 's', '90 s', '1.5m', '30s1m', '2mm', '-5', ' 90s', '1h1d', '1.5d', 'soon', -1, Number.NaN, Infinity, true, null, undefined, {}, ['90s']])(
    'rejects %j',
    (input) => {
      expect(parseDuration(input)).toBeUndefined()
    },
  )
})
