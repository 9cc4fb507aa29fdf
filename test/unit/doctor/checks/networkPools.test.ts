import { describe, expect, it } from 'vitest'

import { networkPoolCheck } from '../../../../src/doctor/checks/networkPools.js'
import { POOL_SNIPPET } from '../../../../src/preflight/addressPools.js'

describe('networkPoolCheck', () => {
  it('is ok while five or more networks still fit', () => {
    expect(networkPoolCheck({ capacity: 31, used: 26, free: 5 })).toEqual({ id: 'network-pools', status: 'ok', summary: "5 more networks fit in the engine's address pools (26 of 31 in use)", details: [] })
  })

  it('warns below five, with the daemon.json setting that widens the pools', () => {
    const check = networkPoolCheck({ capacity: 31, used: 30, free: 1 })
    expect(check).toMatchObject({ status: 'warn', summary: "1 more network fit in the engine's address pools (30 of 31 in use)" })
    expect(check.hint).toContain(POOL_SNIPPET)
  })
})
