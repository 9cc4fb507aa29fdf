import { describe, expect, it } from 'vitest'

import { configuredPoolCheck, networkPoolCheck } from '../../../../src/doctor/checks/networkPools.js'
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

describe("doctor's check of network_pool", () => {
  const space = (pools: string[], routes: string[]) => ({ networks: new Map<string, string[]>(), routes, pools })

  it('fails a pool that overlaps an address pool of the engine or a route of the host, naming them', () => {
    const check = configuredPoolCheck({ base: '172.16.0.0/12', size: 24 }, space(['172.17.0.0/16', '10.0.0.0/8'], ['172.30.5.0/24']))
    expect(check.status).toBe('fail')
    expect(check.details).toEqual(['overlaps 172.17.0.0/16 (an address pool of the engine)', 'overlaps 172.30.5.0/24 (a route of the host)'])
  })

  it("does not count the route of one of the engine's own networks (a bridge) as a clash: that network is taken space", () => {
    const taken = { networks: new Map([['shop-qa_default', ['10.240.100.128/26']]]), routes: ['10.240.100.128/26'], pools: ['172.17.0.0/16'] }
    expect(configuredPoolCheck({ base: '10.240.0.0/16', size: 26 }, taken)).toMatchObject({ status: 'ok', summary: 'network_pool 10.240.0.0/16 in /26s has room for 1023 more networks' })
  })

  it('is ok with room, and says how much', () => {
    const check = configuredPoolCheck({ base: '10.240.0.0/12', size: 26 }, space(['172.17.0.0/16'], ['10.231.0.0/24']))
    expect(check).toMatchObject({ status: 'ok', summary: 'network_pool 10.240.0.0/12 in /26s has room for 16384 more networks' })
  })
})
