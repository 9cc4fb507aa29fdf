import { describe, expect, it } from 'vitest'

import { useApp } from '../support/operated.js'
import { plainLine } from '../../../src/run/output.js'

useApp()

describe('plainLine', () => {
  it("drops compose's erase-line and colour sequences, nothing else", () => {
    expect(plainLine('\x1b[2Kweb-1  | \x1b[31mred\x1b[0m text')).toBe('web-1  | red text')
    expect(plainLine('plain [2K text')).toBe('plain [2K text')
  })
})
