import { describe, expect, it } from 'vitest'

import { DOCKER_DEFAULT_POOLS, parseCidr, parsePools, parseRoutes, poolNetworks, poolUsage, refuseNetworkCeiling } from '../../../src/preflight/addressPools.js'
import type { RunResult } from '../../../src/docker/runner.js'
import { PreflightError } from '../../../src/errors.js'
import { localTarget } from '../../../src/target/local.js'
import { NO_STATE } from '../support/deps.js'

describe('address pools', () => {
  it("Docker's built-in pools hold 31 networks", () => {
    expect(poolUsage(DOCKER_DEFAULT_POOLS, []).capacity).toBe(31)
    expect(parsePools('null\n')).toEqual(DOCKER_DEFAULT_POOLS)
  })

  it('reads the pools docker info shows', () => {
    expect(parsePools('[{"Base":"10.200.0.0/16","Size":24}]')).toEqual([{ base: '10.200.0.0/16', size: 24 }])
    expect(poolUsage(parsePools('[{"Base":"10.200.0.0/16","Size":24}]'), []).capacity).toBe(256)
  })

  it('counts each pool subnet once, whether a network, its route or a larger route covers it', () => {
    const usage = poolUsage(DOCKER_DEFAULT_POOLS, [
      '172.17.0.0/16', // the default bridge
      '172.17.0.0/16', // its route
      '172.18.0.0/16',
      '172.20.5.0/24', // a host route inside one /16 of 172.20.0.0/14
      '192.168.0.0/19', // two /20s
      '10.0.0.0/8', // outside every pool
      '172.24.0.0/13', // a route over 172.24/14 and 172.28/14: 8 subnets
    ])
    expect(usage).toEqual({ capacity: 31, used: 1 + 1 + 1 + 2 + 8, free: 31 - 13 })
  })

  it('parses CIDRs to their network address', () => {
    expect(parseCidr('172.20.5.7/16')).toEqual({ addr: 172 * 2 ** 24 + 20 * 2 ** 16, prefix: 16 })
    expect(parseCidr('fd00::/64')).toBeUndefined()
    expect(parseCidr('300.1.1.1/8')).toBeUndefined()
  })

  it('reads the IPv4 routes of /proc/net/route, without the default route', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'tun0\t0105A8C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    ].join('\n')
    expect(parseRoutes(table)).toEqual(['172.17.0.0/16', '192.0.2.0/24', '192.168.5.1/32'])
  })

  it("names the networks a document takes from the pools: not external ones, nor those with a subnet of their own", () => {
    const doc = {
      services: { web: { networks: { default: null, platform: null, fixed: null } }, db: {} },
      networks: {
        default: { name: 'shop-staging_default' },
        platform: { name: 'platform', external: true },
        fixed: { name: 'shop-staging_fixed', ipam: { config: [{ subnet: '10.9.0.0/24' }] } },
        unused: { name: 'shop-staging_unused' },
      },
    }
    expect(poolNetworks(doc, 'shop-staging')).toEqual(['shop-staging_default'])
    // network_mode: bridge (what the benchmark's scale app uses): compose config lists no network for it.
    expect(poolNetworks({ services: { web: {} } }, 'shop-x')).toEqual([])
  })
})

describe('refuseNetworkCeiling', () => {
  const fake = (answers: Record<string, string>) => {
    const calls: string[] = []
    const run = async (argv: readonly string[]): Promise<RunResult> => {
      const line = argv.join(' ')
      calls.push(line)
      const key = Object.keys(answers).find((k) => line.startsWith(k))
      if (key === undefined) throw new Error(`unscripted: ${line}`)
      return { stdout: answers[key] as string, stderr: '', exitCode: 0 }
    }
    return { run, calls }
  }
  const pools = '[{"Base":"10.200.0.0/24","Size":26}]' // four networks

  it('asks nothing more when every network exists already', async () => {
    const { run, calls } = fake({ 'docker network ls': 'bridge\nshop-staging_default\n' })
    await refuseNetworkCeiling({ run, target: localTarget({ stateDir: NO_STATE }) }, 'staging', ['shop-staging_default'])
    expect(calls).toEqual(['docker network ls --format {{.Name}}'])
  })

  it('lets a deploy through while the pools have room, and refuses the one that needs more, saying how many are used', async () => {
    const subnets = (n: number) => Array.from({ length: n }, (_, i) => `{"name":"n${i}","ipam":[{"Subnet":"10.200.0.${i * 64}/26"}]}`).join('\n')
    const room = fake({ 'docker network ls': 'n0\nn1\nn2\n', 'docker info': pools, 'docker network inspect': subnets(3) })
    await refuseNetworkCeiling({ ...room, target: localTarget({ stateDir: NO_STATE }) }, 'staging', ['shop-staging_default'])

    const full = fake({ 'docker network ls': 'n0\nn1\nn2\nn3\n', 'docker info': pools, 'docker network inspect': subnets(4) })
    const error = await refuseNetworkCeiling({ ...full, target: localTarget({ stateDir: NO_STATE }) }, 'staging', ['shop-staging_default']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreflightError)
    expect((error as PreflightError).code).toBe('NETWORK_POOLS_FULL')
    expect((error as PreflightError).message).toMatch(/staging needs 1 new network \(shop-staging_default\), but the engine's address pools are full: they hold 4 networks and 4 are in use/)
    expect((error as PreflightError).hint).toContain('"default-address-pools"')
  })
})
