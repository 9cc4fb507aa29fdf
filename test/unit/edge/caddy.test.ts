import { describe, expect, it } from 'vitest'

import { berthRoutes, edgeRouteJson, environmentRoutes, LIVE_ROOT, liveMarker, nextServers, routeId, serverName } from '../../../src/edge/caddy.js'
import { servers, up } from '../support/caddy.js'
import { EdgeRouteConflictError } from '../../../src/edge/errors.js'

describe('route ids and JSON', () => {
  it('names routes by app, environment, listen port and sanitized host', () => {
    expect(routeId('shop', 'production', { listen: 80 })).toBe('berth-shop-production-80')
    expect(routeId('shop', 'staging', { listen: 8080, host: 'Staging.Shop.test' })).toBe('berth-shop-staging-8080-staging_shop_test')
    expect(serverName(8080)).toBe('berth-8080')
  })

  it('builds a terminal route to blue while the environment\'s marker file exists and to green otherwise, host-matched when it has a host', () => {
    const proxy = (dial: string) => ({ handler: 'reverse_proxy', upstreams: [{ dial }] })
    expect(edgeRouteJson('shop', 'staging', { listen: 8080, host: 'Shop.test', upstreams: up(19311) })).toEqual({
      '@id': 'berth-shop-staging-8080-shop_test',
      match: [{ host: ['shop.test'] }],
      handle: [
        {
          handler: 'subroute',
          routes: [
            { match: [{ file: { root: LIVE_ROOT, try_files: ['shop/staging/blue'] } }], handle: [proxy('127.0.0.1:19311')], terminal: true },
            { handle: [proxy('127.0.0.1:20311')], terminal: true },
          ],
        },
      ],
      terminal: true,
    })
    expect(liveMarker('shop', 'staging')).toBe('shop/staging/blue')
    expect(edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19301) })).not.toHaveProperty('match')
  })
})

describe('nextServers', () => {
  it('switches one environment in place and leaves every other route and server identical', () => {
    const before = servers()
    const after = nextServers(before, 'shop', 'production', [{ listen: 80, upstreams: up(19302) }])
    expect(after['berth-80']?.routes).toEqual([edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19302) })])
    expect(after['berth-8080']).toEqual(servers()['berth-8080'])
    expect(after.mine).toEqual(servers().mine)
    expect(before).toEqual(servers())
  })

  it('adds a server for a new listen port, with automatic HTTPS disabled', () => {
    const after = nextServers(servers(), 'shop', 'production', [
      { listen: 80, upstreams: up(19301) },
      { listen: 8443, upstreams: up(19303) },
    ])
    expect(after['berth-8443']).toEqual({
      listen: [':8443'],
      automatic_https: { disable: true },
      routes: [edgeRouteJson('shop', 'production', { listen: 8443, upstreams: up(19303) })],
    })
  })

  it('puts a host-matched route before the catch-all of the same server', () => {
    const after = nextServers(servers(), 'shop', 'preview', [{ listen: 8080, host: 'preview.shop.test', upstreams: up(19321) }])
    expect(after['berth-8080']?.routes?.map((r) => r['@id'])).toEqual([
      'berth-shop-staging-8080-staging_shop_test',
      'berth-shop-preview-8080-preview_shop_test',
      'berth-blog-production-8080',
    ])
  })

  it('appends a catch-all after the host-matched routes', () => {
    const start = nextServers(servers(), 'blog', 'production', [])
    const after = nextServers(start, 'blog', 'production', [{ listen: 8080, upstreams: up(19402) }])
    expect(after['berth-8080']?.routes?.map((r) => r['@id'])).toEqual(['berth-shop-staging-8080-staging_shop_test', 'berth-blog-production-8080'])
  })

  it('removes routes the environment no longer has, and a berth server left empty', () => {
    const after = nextServers(servers(), 'shop', 'production', [])
    expect(after).not.toHaveProperty('berth-80')
    expect(after['berth-8080']).toEqual(servers()['berth-8080'])
    expect(after.mine).toEqual(servers().mine)
  })

  it('moves a route to another listen port in the same change', () => {
    const after = nextServers(servers(), 'shop', 'staging', [{ listen: 8081, host: 'staging.shop.test', upstreams: up(19312) }])
    expect(after['berth-8080']?.routes?.map((r) => r['@id'])).toEqual(['berth-blog-production-8080'])
    expect(after['berth-8081']?.routes?.map((r) => r['@id'])).toEqual(['berth-shop-staging-8081-staging_shop_test'])
  })

  it('never takes a sibling whose name extends this one (prod vs prod-2) for its own', () => {
    const start = nextServers({}, 'shop', 'prod-2', [{ listen: 19120, host: 'two.test', upstreams: up(1) }])
    const withProd = nextServers(start, 'shop', 'prod', [{ listen: 19120, host: 'one.test', upstreams: up(2) }])
    const cleared = nextServers(withProd, 'shop', 'prod', [])
    expect(cleared).toEqual(start)
    expect(environmentRoutes(berthRoutes({ apps: { http: { servers: withProd } } }), 'shop', 'prod').map((r) => r.id)).toEqual(['berth-shop-prod-19120-one_test'])
  })

  it('refuses a listen port and host that another environment already serves, changing nothing', () => {
    const before = servers()
    expect(() => nextServers(before, 'shop', 'preview', [{ listen: 8080, host: 'STAGING.shop.test', upstreams: up(1) }])).toThrow(EdgeRouteConflictError)
    expect(() => nextServers(before, 'shop', 'preview', [{ listen: 80, upstreams: up(1) }])).toThrow(/already sends it to blue 127\.0\.0\.1:19301, green 127\.0\.0\.1:20301/)
    expect(before).toEqual(servers())
  })

  it('adds to a server of the operator that already listens on the port instead of a second listener', () => {
    const after = nextServers(servers(), 'shop', 'preview', [{ listen: 9000, host: 'p.test', upstreams: up(1) }])
    expect(after).not.toHaveProperty('berth-9000')
    expect(after.mine?.routes?.map((r) => r['@id'])).toEqual(['berth-shop-preview-9000-p_test', undefined])
  })

  it('starts from no servers at all', () => {
    expect(nextServers(null, 'shop', 'production', [{ listen: 80, upstreams: up(1) }])).toEqual({
      'berth-80': { listen: [':80'], automatic_https: { disable: true }, routes: [edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(1) })] },
    })
  })

  it('rejects a route given twice', () => {
    expect(() => nextServers(null, 'a', 'b', [{ listen: 80, upstreams: up(1) }, { listen: 80, upstreams: up(2) }])).toThrow(/given twice/)
  })
})

describe('berthRoutes', () => {
  it('lists every berth route of a config with its listen port, host and upstream', () => {
    expect(berthRoutes({ admin: {}, apps: { http: { servers: servers() } } })).toEqual([
      { id: 'berth-shop-production-80', listen: 80, upstreams: up(19301) },
      { id: 'berth-shop-staging-8080-staging_shop_test', listen: 8080, host: 'staging.shop.test', upstreams: up(19311) },
      { id: 'berth-blog-production-8080', listen: 8080, upstreams: up(19401) },
    ])
  })

  it("reads an earlier berth's one-upstream route with the upstreams it cannot tell apart left out", () => {
    const single = { '@id': 'berth-shop-old-80', handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:1' }] }] }
    expect(berthRoutes({ apps: { http: { servers: { s: { listen: [':80'], routes: [single] } } } } })).toEqual([{ id: 'berth-shop-old-80', listen: 80, upstreams: {} }])
  })

  it('marks a berth route changed by hand into something berth cannot read', () => {
    const route = edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19301) })
    const handMade = { ...route, handle: [{ handler: 'static_response', body: 'down for maintenance' }] }
    expect(berthRoutes({ apps: { http: { servers: { s: { listen: [':80'], routes: [handMade] } } } } })).toEqual([
      { id: 'berth-shop-production-80', listen: 80, upstreams: {}, damage: 'it is not a route berth wrote (no blue or green upstream berth can read)' },
    ])
  })

  it('reads an empty or partial config as no routes', () => {
    expect(berthRoutes(null)).toEqual([])
    expect(berthRoutes({ apps: {} })).toEqual([])
  })
})
