import { describe, expect, it } from 'vitest'

import { validateDeployFile } from '../../../src/config/schema.js'
import { allocateSubnets, networkOverride, poolRoom, refuseFullPool } from '../../../src/preflight/networkPool.js'

const pool = { base: '10.240.0.0/12', size: 26 }

describe("network_pool's subnets", () => {
  it('are /size blocks inside the base, none overlapping what is taken nor each other', () => {
    const taken = ['10.240.0.0/16', '10.250.0.0/15']
    const subnets = allocateSubnets(pool, 300, taken, 'shop-preview-1') as string[]
    expect(subnets).toHaveLength(300)
    expect(new Set(subnets).size).toBe(300)
    for (const s of subnets) {
      expect(s).toMatch(/^10\.(24[0-9]|25[0-5])\.\d+\.\d+\/26$/)
      const [a, b, c, d] = (s.split('/')[0] as string).split('.').map(Number) as [number, number, number, number]
      expect(d % 64).toBe(0)
      expect(b === 240 || b === 250 || b === 251).toBe(false)
      expect(c).toBeLessThan(256)
      expect(a).toBe(10)
    }
  })

  it('start where the project says, so two environments deploying at once rarely pick the same', () => {
    const one = allocateSubnets(pool, 1, [], 'shop-preview-1')
    const two = allocateSubnets(pool, 1, [], 'shop-preview-2')
    expect(one).toEqual(allocateSubnets(pool, 1, [], 'shop-preview-1'))
    expect(one).not.toEqual(two)
  })

  it('run out when the pool is full, and say how much room there is', () => {
    const small = { base: '10.99.0.0/24', size: 26 }
    expect(poolRoom(small, ['10.99.0.64/26'])).toBe(3)
    expect(allocateSubnets(small, 3, ['10.99.0.64/26'], 'x')?.sort()).toEqual(['10.99.0.0/26', '10.99.0.128/26', '10.99.0.192/26'])
    expect(allocateSubnets(small, 4, ['10.99.0.64/26'], 'x')).toBeUndefined()
    // A route or pool wider than the whole range leaves nothing.
    expect(poolRoom(small, ['10.0.0.0/8'])).toBe(0)
  })

  it('are refused with the pool named when too few are left (nothing is created)', () => {
    const small = { base: '10.99.0.0/25', size: 26 }
    const space = { networks: new Map([['other_default', ['10.99.0.0/26']]]), routes: [], pools: [] }
    expect(() => refuseFullPool(space, small, 'preview-9', ['shop-preview-9_default', 'shop-preview-9_back'])).toThrow(
      /preview-9 needs 2 new networks .* but network_pool 10\.99\.0\.0\/25 in \/26s has room for 1 of its 2/,
    )
    expect(() => refuseFullPool(space, small, 'preview-9', ['shop-preview-9_default'])).not.toThrow()
  })

  it('reach compose as an override of each network by its key', () => {
    expect(networkOverride({ default: '10.240.1.0/26', back: '10.240.1.64/26' })).toBe(
      [
        "# berth: subnets from deploy.yml's network_pool (one per network of this project)",
        'networks:',
        '  "back":',
        '    ipam:',
        '      config:',
        '        - subnet: "10.240.1.64/26"',
        '  "default":',
        '    ipam:',
        '      config:',
        '        - subnet: "10.240.1.0/26"',
        '',
      ].join('\n'),
    )
  })
})

describe('network_pool in deploy.yml', () => {
  const file = (network_pool: unknown) => ({ app: 'shop', environments: { staging: {} }, network_pool })

  it('takes a base and a size (default 26)', () => {
    const r = validateDeployFile(file({ base: '10.240.0.0/12' }))
    expect(r.ok && r.value.network_pool).toEqual({ base: '10.240.0.0/12', size: 26 })
  })

  it('refuses a base that is not a CIDR, a size out of range, and a size wider than the base', () => {
    const issues = (v: unknown) => {
      const r = validateDeployFile(file(v))
      return r.ok ? [] : r.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    }
    expect(issues({ base: '10.240.0.0' })).toEqual(['network_pool.base: expected an IPv4 network like 10.240.0.0/12'])
    expect(issues({ base: '10.240.0.0/12', size: 30 })).toEqual(['network_pool.size: expected a prefix length from 16 to 29'])
    expect(issues({ base: '10.240.0.0/24', size: 20 })).toEqual(['network_pool.size: must be at least the prefix length of base (a subnet fits inside the range)'])
  })
})
