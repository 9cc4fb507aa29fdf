import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../../src/config/types.js'
import { parsePs } from '../../../../src/docker/parse.js'
import { portCheck } from '../../../../src/doctor/checks/ports.js'
import type { ComposeModel } from '../../../../src/release/model.js'
import { environmentConfig } from '../../fixtures.js'
import { composeLabels, psLine } from '../../support/ps.js'
import { COMPOSE_SCHEME } from '../../../../src/names.js'

const env = (name: string, dir = '/srv/shop'): EnvironmentConfig => environmentConfig(name, dir)
const model = (services: ComposeModel['services']): ComposeModel => ({ services })

describe('portCheck', () => {
  const web = (published: string, host_ip?: string) => model({ web: { ports: [{ target: 8080, published, ...(host_ip ? { host_ip } : {}) }] } })

  it('fails when two environments record the same host port', () => {
    const check = portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: web('8080') }], undefined)
    expect(check.status).toBe('fail')
    expect(check.details).toEqual(['host port 8080/tcp: staging (web) and production (web) both publish it'])
  })

  it('compares ranges and host addresses', () => {
    expect(portCheck([{ env: env('staging'), model: web('8000-8005') }, { env: env('production'), model: web('8003') }], undefined).status).toBe('fail')
    expect(portCheck([{ env: env('staging'), model: web('8080', '127.0.0.1') }, { env: env('production'), model: web('8080', '127.0.0.2') }], undefined).status).toBe('ok')
    expect(portCheck([{ env: env('staging'), model: web('8080', '127.0.0.1') }, { env: env('production'), model: web('8080') }], undefined).status).toBe('fail')
  })

  it('fails when a container of another project or a hand-started one holds a port the app publishes', () => {
    const running = parsePs(
      [
        psLine('shop-staging-web-1', composeLabels('shop-staging', 'web'), { Ports: '0.0.0.0:8080->8080/tcp' }),
        psLine('legacy-nginx-1', composeLabels('legacy', 'nginx'), { Ports: '0.0.0.0:8081->80/tcp, [::]:8081->80/tcp' }),
        // Inherits shop-production's project label from its image, yet compose did not create it.
        psLine('shop-web-manual', { 'com.docker.compose.project': 'shop-production' }, { Ports: '0.0.0.0:8082->8080/tcp' }),
      ].join('\n'), COMPOSE_SCHEME,
    )
    const check = portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: model({ web: { ports: [{ target: 8080, published: '8081' }, { target: 8080, published: '8082' }] } }) }], running)
    expect(check.details).toEqual([
      'host port 8081/tcp: production (web) publishes it, and so does compose project legacy, container legacy-nginx-1',
      'host port 8082/tcp: production (web) publishes it, and so does container shop-web-manual, started outside compose',
    ])
  })

  it('is ok when nothing is published twice', () => {
    expect(portCheck([{ env: env('staging'), model: web('8080') }, { env: env('production'), model: web('8081') }, { env: env('preview') }], []).status).toBe('ok')
  })
})
