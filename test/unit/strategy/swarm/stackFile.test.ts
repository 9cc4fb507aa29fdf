import { describe, expect, it } from 'vitest'

import { restartCondition, stackFile, type StackOptions, waitsOf, waves, withServices } from '../../../../src/strategy/swarm/stackFile.js'

// compose's resolved config of the example app (docker compose config --format json, trimmed).
const model = {
  name: 'shop-staging',
  services: {
    web: {
      build: { context: '/app/web' },
      image: 'reg:5000/shop-web:T1',
      ports: [{ mode: 'ingress', target: 8080, published: '18080', protocol: 'tcp' }],
      environment: { APP_ENV: 'staging' },
      depends_on: { store: { condition: 'service_healthy', required: true }, migrate: { condition: 'service_completed_successfully', required: true } },
      healthcheck: { test: ['CMD', 'true'], interval: '1s' },
      networks: { default: null },
      restart: 'unless-stopped',
      labels: { team: 'a' },
    },
    store: {
      image: 'reg:5000/shop-store:T1',
      restart: 'unless-stopped',
      volumes: [{ type: 'volume', source: 'data', target: '/data', volume: {} }, { type: 'bind', source: '/srv', target: '/srv', bind: { create_host_path: true } }],
      networks: { default: null },
      privileged: true,
    },
    migrate: { image: 'reg:5000/shop-store:T1', restart: 'no', depends_on: { store: { condition: 'service_healthy' } }, networks: { default: null } },
  },
  networks: { default: { name: 'shop-staging_default' }, platform: { name: 'platform', external: true } },
  volumes: { data: { name: 'shop-staging_data' } },
  'x-extra': { a: 1 },
}

const options: StackOptions = {
  app: 'shop',
  env: 'staging',
  tag: 'T1',
  images: { web: 'reg:5000/shop-web:T1@sha256:aa', store: 'reg:5000/shop-store:T1@sha256:bb', migrate: 'reg:5000/shop-store:T1@sha256:bb' },
  oneOff: new Set(['migrate']),
  noMesh: true,
}

describe('stackFile', () => {
  const { stack, ignored } = stackFile(model, options)
  const web = stack.services.web as Record<string, any>
  const store = stack.services.store as Record<string, any>
  const migrate = stack.services.migrate as Record<string, any>

  it('writes the version 3 format docker stack deploy reads, without compose-only keys', () => {
    expect(stack.version).toBe('3.9')
    expect(stack).not.toHaveProperty('name')
    for (const key of ['build', 'depends_on', 'restart']) expect(web).not.toHaveProperty(key)
    expect(ignored).toEqual(['store.privileged', 'x-extra'])
  })

  it('runs every service pinned by digest, labelled with the release', () => {
    expect(web.image).toBe('reg:5000/shop-web:T1@sha256:aa')
    expect(web.labels).toEqual({ team: 'a', 'berth.app': 'shop', 'berth.env': 'staging', 'berth.release': 'T1', 'berth.service': 'web' })
    expect(web.deploy.labels['berth.release']).toBe('T1')
  })

  it('publishes in host mode and resolves by DNS without the routing mesh, updating stop-first where a host port would clash', () => {
    expect(web.ports).toEqual([{ target: 8080, published: 18080, protocol: 'tcp', mode: 'host' }])
    expect(web.deploy).toMatchObject({ endpoint_mode: 'dnsrr', update_config: { order: 'stop-first', failure_action: 'rollback' }, restart_policy: { condition: 'any' } })
    expect(store.deploy.update_config.order).toBe('start-first')
    const mesh = stackFile(model, { ...options, noMesh: false }).stack.services.web as Record<string, any>
    expect(mesh.ports[0].mode).toBe('ingress')
    expect(mesh.deploy.update_config.order).toBe('start-first')
    expect(mesh.deploy).not.toHaveProperty('endpoint_mode')
  })

  it('runs one-off services as jobs that are not restarted', () => {
    expect(migrate.deploy).toMatchObject({ mode: 'replicated-job', restart_policy: { condition: 'none' } })
    expect(migrate.deploy).not.toHaveProperty('update_config')
  })

  it('lets the stack name its own networks and volumes, keeping an external one', () => {
    expect(stack.networks).toEqual({ default: {}, platform: { external: true, name: 'platform' } })
    expect(stack.volumes).toEqual({ data: {} })
    expect(store.volumes).toEqual([{ type: 'volume', source: 'data', target: '/data' }, { type: 'bind', source: '/srv', target: '/srv' }])
  })

  it("keeps the operator's own deploy keys over berth's defaults", () => {
    const own = stackFile({ services: { web: { image: 'x', deploy: { replicas: 3, update_config: { order: 'stop-first', parallelism: 2 } } } } }, { ...options, noMesh: false })
    expect((own.stack.services.web as Record<string, any>).deploy).toMatchObject({ replicas: 3, update_config: { order: 'stop-first', parallelism: 2, failure_action: 'rollback' } })
  })
})

describe('waves', () => {
  const services = Object.keys(model.services).sort()
  it('reads what waits on health or completion from depends_on, not what only waits on a start', () => {
    expect(waitsOf(model)).toEqual({ web: { store: 'service_healthy', migrate: 'service_completed_successfully' }, migrate: { store: 'service_healthy' } })
    expect(waitsOf({ services: { a: { depends_on: { b: { condition: 'service_started' } } }, b: {} } })).toEqual({})
  })

  it("keeps compose's order on a first deploy: what waits comes in a later wave", () => {
    expect(waves(services, waitsOf(model))).toEqual([['store'], ['migrate'], ['web']])
  })

  it('holds nothing back for a dependency already running, except a job that must complete again', () => {
    const existing = new Set(services)
    expect(waves(services, waitsOf(model), { existing, jobs: new Set(['migrate']) })).toEqual([['migrate', 'store'], ['web']])
    expect(waves(services, waitsOf(model), { existing, jobs: new Set() })).toEqual([['migrate', 'store', 'web']])
  })

  it('selects the services of a wave, keeping the rest of the file', () => {
    const { stack } = stackFile(model, options)
    const part = withServices(stack, ['store'])
    expect(Object.keys(part.services)).toEqual(['store'])
    expect(part.networks).toBe(stack.networks)
  })
})

describe('restartCondition', () => {
  it("maps compose's restart policy to Swarm's", () => {
    expect([undefined, 'always', 'unless-stopped', 'on-failure:3', 'no'].map(restartCondition)).toEqual(['any', 'any', 'any', 'on-failure', 'none'])
  })
})
