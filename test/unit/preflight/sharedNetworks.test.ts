import { describe, expect, it } from 'vitest'

import type { ComposeModel } from '../../../src/release/model.js'
import { endpointsOf, findNameClashes, namesOnSharedNetworks, refuseSharedNames, sharedNameFindings } from '../../../src/preflight/sharedNetworks.js'
import { type Container } from '../../../src/docker/parse.js'
import type { RunResult } from '../../../src/docker/runner.js'
import { PreflightError } from '../../../src/errors.js'
import { environmentConfig } from '../fixtures.js'
import { localTarget } from '../../../src/target/local.js'
import { NO_STATE } from '../support/deps.js'

const model: ComposeModel = {
  services: {
    web: { networks: { default: null, platform: { aliases: ['www'] } } },
    db: { networks: { default: null } },
  },
  networks: { default: { name: 'shop-staging_default' }, platform: { name: 'platform', external: true } },
}

function container(name: string, project: string | undefined, service: string | undefined, networks: string[], env?: string): Container {
  const labels: Record<string, string> = project ? { 'com.docker.compose.project': project, 'com.docker.compose.oneoff': 'False', 'com.docker.compose.service': service ?? '' } : {}
  if (env) Object.assign(labels, { 'berth.app': 'shop', 'berth.env': env })
  return { id: `${name}-id`, name, image: 'img', state: 'running', health: '', status: 'Up', ports: '', labels, networks, ...(project ? { project } : {}), ...(service ? { service } : {}), createdAt: '' }
}

describe('names on shared networks', () => {
  it('lists only networks beyond the project: external ones and those named outside <project>_', () => {
    expect(namesOnSharedNetworks(model, 'shop-staging')).toEqual([{ network: 'platform', key: 'platform', service: 'web', names: ['web', 'www'] }])
    const named: ComposeModel = { services: { web: { networks: { shared: null } } }, networks: { shared: { name: 'team-shared' } } }
    expect(namesOnSharedNetworks(named, 'shop-staging').map((n) => n.network)).toEqual(['team-shared'])
  })

  it("finds another container answering to one of the names there (its aliases, its name, its service)", () => {
    const other = container('shop-production-web-1', 'shop-production', 'web', ['platform'], 'production')
    const endpoints = endpointsOf([other], [{ id: other.id, networks: { platform: { Aliases: ['shop-production-web-1', 'web', 'abc123'] } } }], new Set(['platform']))
    const clashes = findNameClashes(namesOnSharedNetworks(model, 'shop-staging'), endpoints)
    expect(clashes).toEqual([{ network: 'platform', service: 'web', name: 'web', holder: 'compose project shop-production (berth environment production), container shop-production-web-1' }])
    const byAlias = endpointsOf([container('nginx', undefined, undefined, ['platform'])], [{ id: 'nginx-id', networks: { platform: { Aliases: ['www'] } } }], new Set(['platform']))
    expect(findNameClashes(namesOnSharedNetworks(model, 'shop-staging'), byAlias).map((c) => c.name)).toEqual(['www'])
  })

  const fake = (ps: Container[], inspect: Record<string, unknown>[]) => {
    const calls: string[] = []
    const line = (c: Container) => JSON.stringify({ ID: c.id, Names: c.name, Image: c.image, State: c.state, Status: c.status, Ports: '', Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: '', Networks: (c.networks ?? []).join(',') })
    const run = async (argv: readonly string[]): Promise<RunResult> => {
      calls.push(argv.join(' '))
      if (argv[1] === 'ps') return { stdout: ps.map(line).join('\n'), stderr: '', exitCode: 0 }
      if (argv[1] === 'inspect') return { stdout: inspect.map((i) => JSON.stringify(i)).join('\n'), stderr: '', exitCode: 0 }
      throw new Error(`unscripted: ${argv.join(' ')}`)
    }
    return { run, calls }
  }

  it('refuses the deploy that would make a second answer, naming the network, the service, the other environment and the ways out', async () => {
    const other = container('shop-production-web-1', 'shop-production', 'web', ['platform'], 'production')
    const { run, calls } = fake([other, container('shop-staging-web-1', 'shop-staging', 'web', ['platform'], 'staging')], [{ id: other.id, networks: { platform: { Aliases: ['web'] } } }])
    const error = await refuseSharedNames({ run, target: localTarget({ stateDir: NO_STATE }) }, model, environmentConfig('staging', '/srv/shop')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreflightError)
    expect((error as PreflightError).code).toBe('SHARED_NETWORK_NAME')
    expect((error as PreflightError).message).toMatch(/^staging: web would answer as "web" on the shared network platform, where compose project shop-production \(berth environment production\)/)
    expect((error as PreflightError).hint).toMatch(/name: platform-\$\{APP_ENV\}, external: true.*shared_networks: \[platform\] under environments\.staging/)
    // Its own containers are not asked about; only the other environment's are inspected.
    expect(calls).toHaveLength(2)
    expect(calls[0]).toMatch(/^docker ps --all --no-trunc --filter network=platform --format /)
    expect(calls[1]).toMatch(new RegExp(`^docker inspect --type container .* ${other.id}$`))
  })

  it('lets it through when the environment lists the network under shared_networks, asking the engine nothing', async () => {
    const { run, calls } = fake([], [])
    await refuseSharedNames({ run, target: localTarget({ stateDir: NO_STATE }) }, model, { ...environmentConfig('staging', '/srv/shop'), sharedNetworks: ['platform'] })
    await refuseSharedNames({ run, target: localTarget({ stateDir: NO_STATE }) }, { services: { web: {} } }, environmentConfig('staging', '/srv/shop'))
    expect(calls).toEqual([])
  })

  it('status and doctor: findings from one listing, marked accepted when shared_networks lists the network', () => {
    const staging = { ...environmentConfig('staging', '/srv/shop'), sharedNetworks: ['platform'] }
    const production = environmentConfig('production', '/srv/shop')
    const containers = [
      container('shop-staging-web-1', 'shop-staging', 'web', ['shop-staging_default', 'platform'], 'staging'),
      container('shop-production-web-1', 'shop-production', 'web', ['shop-production_default', 'platform'], 'production'),
      container('shop-staging-db-1', 'shop-staging', 'db', ['shop-staging_default', 'bridge'], 'staging'),
      container('other-db-1', 'other', 'db', ['bridge'], undefined),
    ]
    expect(sharedNameFindings([staging, production], containers)).toEqual([
      { environment: 'staging', network: 'platform', service: 'web', holder: 'compose project shop-production (berth environment production), container shop-production-web-1', accepted: true },
      { environment: 'production', network: 'platform', service: 'web', holder: 'compose project shop-staging (berth environment staging), container shop-staging-web-1', accepted: false },
    ])
  })
})
