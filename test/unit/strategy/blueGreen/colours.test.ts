import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../../src/config/types.js'
import {
  allocateUpstreams,
  upstreamRange,
  colourModel,
  probesForColour,
  splitConfig,
  statefulModel,
} from '../../../../src/strategy/blueGreen/colours.js'
import { environmentConfig } from '../../fixtures.js'
import { otherColour } from '../../../../src/names.js'

const env: EnvironmentConfig = {
  ...environmentConfig('production', '/srv/shop'),
  strategy: 'blue-green',
  stateful: ['db'],
  routes: [
    { listen: 443, service: 'web', port: 8080, tls: 'off' },
    { listen: 8443, service: 'web', port: 8080, host: 'admin.example.com', tls: 'off' },
  ],
}

// What `docker compose config` prints for the release (resolved names, absolute paths).
const resolved = `
name: shop-production
services:
  web:
    image: shop-web:20261122-093000
    depends_on:
      db: { condition: service_healthy, required: true }
      worker: { condition: service_started, required: true }
    ports:
      - { mode: ingress, target: 8080, published: "443", protocol: tcp }
    labels: { berth.app: shop, berth.env: production, berth.release: 20261122-093000 }
    networks: { default: null }
  worker:
    image: shop-worker:20261122-093000
    networks: { default: null, jobs: null }
    volumes:
      - { type: volume, source: cache, target: /cache }
  db:
    image: postgres:16
    networks: { default: null }
    volumes:
      - { type: volume, source: pgdata, target: /var/lib/postgresql/data }
networks:
  default: { name: shop-production_default }
  jobs: { name: shop-production_jobs }
volumes:
  pgdata: { name: shop-production_pgdata }
  cache: { name: shop-production_cache }
`

describe('splitConfig', () => {
  const upstreams = { 'web:8080': 31234 }
  const split = splitConfig(resolved, env, 'green', upstreams)
  const stateful = parse(split.stateful as string) as Record<string, Record<string, unknown>>
  const colour = parse(split.colour) as { services: Record<string, Record<string, unknown>>; networks: Record<string, unknown>; volumes: Record<string, unknown> }

  it('splits a parsed model as it splits its text, and leaves the model as it was', () => {
    const model = parse(resolved) as Parameters<typeof splitConfig>[0]
    const before = JSON.stringify(model)
    const none = { ...env, stateful: [] }
    expect(splitConfig(model, env, 'green', upstreams)).toEqual(split)
    expect(splitConfig(model, none, 'blue', upstreams)).toEqual(splitConfig(resolved, none, 'blue', upstreams))
    expect(JSON.stringify(model)).toBe(before)
  })

  it('keeps stateful services, their networks and volumes in the shared project', () => {
    expect(Object.keys(stateful.services ?? {})).toEqual(['db'])
    expect(stateful.networks).toEqual({ default: { name: 'shop-production_default' } })
    expect(stateful.volumes).toEqual({ pgdata: { name: 'shop-production_pgdata' } })
    expect(stateful).not.toHaveProperty('name')
  })

  it("joins colour services to the stateful project's networks and keeps their own networks per colour", () => {
    expect(Object.keys(colour.services)).toEqual(['web', 'worker'])
    expect(colour.networks.default).toEqual({ name: 'shop-production_default', external: true })
    expect(colour.networks.jobs).toEqual({ name: 'shop-production_jobs' })
    expect(colour.volumes).toEqual({ cache: { name: 'shop-production_cache' } })
  })

  it('drops depends_on on stateful services and published ports, and publishes each routed port once on loopback', () => {
    const web = colour.services.web as Record<string, unknown>
    expect(web.depends_on).toEqual({ worker: { condition: 'service_started', required: true } })
    expect(web.ports).toEqual([{ target: 8080, published: '31234', host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }])
    expect(web.labels).toMatchObject({ 'berth.colour': 'green', 'berth.release': '20261122-093000' })
    expect(colour.services.worker).not.toHaveProperty('ports')
  })

  it('has no stateful project when nothing is stateful', () => {
    const none = splitConfig(resolved, { ...env, stateful: [] }, 'blue', upstreams)
    expect(none.stateful).toBeUndefined()
    expect((parse(none.colour) as { networks: Record<string, unknown> }).networks.default).toEqual({})
  })
})

describe('allocateUpstreams', () => {
  it('is stable for the same app, environment, colour and service, and one port per service port', () => {
    const a = allocateUpstreams('shop', env, 'blue', {}, new Set())
    expect(Object.keys(a)).toEqual(['web:8080'])
    expect(allocateUpstreams('shop', env, 'blue', {}, new Set())).toEqual(a)
    // Below Linux's default ephemeral range (32768–60999).
    expect(a['web:8080']).toBeGreaterThanOrEqual(22768)
    expect(a['web:8080']).toBeLessThan(32768)
  })

  it("allocates outside the host's ephemeral range, below it when there is room, else above it", () => {
    expect(upstreamRange('32768\t60999\n')).toEqual({ first: 22768, size: 10000 })
    expect(upstreamRange('15000 60999')).toEqual({ first: 5000, size: 10000 })
    expect(upstreamRange('2000 50000')).toEqual({ first: 50001, size: 10000 })
    expect(upstreamRange('1024 65000')).toEqual({ first: 65001, size: 535 })
    expect(upstreamRange(undefined)).toEqual({ first: 22768, size: 10000 })
    expect(upstreamRange('garbage')).toEqual({ first: 22768, size: 10000 })
    const range = upstreamRange('40000 60999')
    const port = allocateUpstreams('shop', env, 'blue', {}, new Set(), range)['web:8080'] as number
    expect(port).toBeGreaterThanOrEqual(30000)
    expect(port).toBeLessThan(40000)
  })

  it('differs between colours, keeps what was allocated, and skips taken ports', () => {
    const blue = allocateUpstreams('shop', env, 'blue', {}, new Set())
    const port = blue['web:8080'] as number
    expect(allocateUpstreams('shop', env, 'green', {}, new Set([port]))['web:8080']).not.toBe(port)
    expect(allocateUpstreams('shop', env, 'blue', { 'web:8080': 35000 }, new Set())).toEqual({ 'web:8080': 35000 })
    expect(allocateUpstreams('shop', env, 'blue', {}, new Set([port]))['web:8080']).toBe(port + 1 < 32768 ? port + 1 : 22768)
  })
})

describe('probesForColour', () => {
  it("sends a probe of a route's public port to the colour's own upstream, and leaves other probes alone", () => {
    const probes = probesForColour(
      [
        { url: 'http://127.0.0.1:443/health', contains: 'ok' },
        { url: 'http://localhost:9000/metrics' },
      ],
      env,
      { 'web:8080': 31234 },
    )
    expect(probes).toEqual([{ url: 'http://127.0.0.1:31234/health', contains: 'ok' }, { url: 'http://localhost:9000/metrics' }])
  })

  it('sends an https probe of an HTTPS route to the upstream over plain HTTP, as the edge reaches it', () => {
    const https = { ...env, routes: [{ listen: 443, service: 'web', port: 8080, host: 'shop.test', tls: 'internal' as const }] }
    expect(probesForColour([{ url: 'https://shop.test/health' }], https, { 'web:8080': 31234 })).toEqual([{ url: 'http://127.0.0.1:31234/health' }])
  })
})

describe('colour helpers', () => {
  it('splits the model and flips colours', () => {
    const model = { services: { web: {}, db: {} } }
    expect(Object.keys(colourModel(model, env).services)).toEqual(['web'])
    expect(Object.keys(statefulModel(model, env).services)).toEqual(['db'])
    expect(otherColour('blue')).toBe('green')
    expect(otherColour('green')).toBe('blue')
  })
})
