import { describe, expect, it } from 'vitest'

import { unmanagedCheck } from '../../../../src/doctor/checks/unmanaged.js'
import { type UnmanagedContainer } from '../../../../src/inspect/unmanaged.js'

describe('unmanagedCheck', () => {
  const manual: UnmanagedContainer = { name: 'shop-web-manual', id: 'm1', image: 'shop-web:20261122-093000', state: 'running', status: 'Up 1 hour', reasons: ['name', 'image'], command: 'docker rm -f shop-web-manual && berth deploy ENV' }

  it('is ok without hand-started containers of the app', () => {
    expect(unmanagedCheck([])).toEqual({ id: 'unmanaged', status: 'ok', summary: 'no hand-started containers of the app', details: [] })
  })

  it('warns about each, with its compose project and the command that brings it back under berth', () => {
    const check = unmanagedCheck([manual, { ...manual, name: 'shop-old-web-1', project: 'shop-old', command: 'docker compose -p shop-old down' }])
    expect(check).toMatchObject({ status: 'warn', summary: "2 containers of the app are outside berth's environments" })
    expect(check.details).toEqual([
      'shop-web-manual (shop-web:20261122-093000, running): docker rm -f shop-web-manual && berth deploy ENV',
      'shop-old-web-1 (shop-web:20261122-093000, running, compose project shop-old): docker compose -p shop-old down',
    ])
    expect(unmanagedCheck([manual]).summary).toBe("1 container of the app is outside berth's environments")
  })
})
