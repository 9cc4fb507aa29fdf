import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../../src/config/types.js'
import { edgeProbes } from '../../../../src/strategy/blueGreen/apply.js'
import { localTarget } from '../../../../src/target/local.js'
import { environmentConfig } from '../../fixtures.js'

/** The health.http probes deploy and watch send through the edge, per route kind (SPEC §9). */
describe('edgeProbes', () => {
  const routes: EnvironmentConfig['routes'] = [
    { listen: 8080, service: 'web', port: 80, tls: 'off' },
    { listen: 9000, service: 'web', port: 80, host: 'plain.test', tls: 'off' },
    { listen: 443, service: 'web', port: 80, host: 'shop.test', tls: 'internal' },
    { listen: 8443, service: 'web', port: 80, host: 'public.example.com', tls: 'auto' },
  ]
  const probes = (...urls: string[]) => {
    const env: EnvironmentConfig = { ...environmentConfig('production', '/srv/shop'), strategy: 'blue-green', routes, health: { timeoutMs: 1, intervalMs: 1, http: urls.map((url) => ({ url })) } }
    return edgeProbes({ config: { app: 'shop' } as never, env, target: localTarget({ stateDir: '/srv/shop/.berth' }), vars: {} })
  }

  it('sends plain routes\' probes as written, with the route\'s host as Host', () => {
    expect(probes('http://127.0.0.1:8080/health', 'http://127.0.0.1:9000/health', 'http://127.0.0.1:7000/other')).toEqual([
      { url: 'http://127.0.0.1:8080/health' },
      { url: 'http://127.0.0.1:9000/health', host: 'plain.test' },
    ])
  })

  it("sends a tls: internal route's probe to the edge on the engine's host over HTTPS, the host as SNI and Host; tls: auto's not at all", () => {
    expect(probes('https://shop.test/health', 'https://public.example.com:8443/health')).toEqual([
      { url: 'https://127.0.0.1/health', host: 'shop.test', servername: 'shop.test' },
    ])
  })
})
