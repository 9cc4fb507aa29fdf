import { describe, expect, it } from 'vitest'
import { table } from '../../../src/ui/table.js'

describe('table', () => {
  it('aligns columns with two spaces and no trailing spaces', () => {
    expect(
      table([
        ['SERVICE', 'STATE', 'PORTS'],
        ['web', 'running (healthy)', '8080->80'],
        ['worker', 'running', ''],
      ]),
    ).toBe(['SERVICE  STATE              PORTS', 'web      running (healthy)  8080->80', 'worker   running'].join('\n'))
  })

  it('is empty for no rows', () => {
    expect(table([])).toBe('')
  })
})
