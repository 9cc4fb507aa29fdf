import { describe, expect, it } from 'vitest'

import {
  berthRoutes,
  type CaddyRoute,
  type CaddyServers,
  edgeRouteJson,
  environmentRoutes,
  LIVE_ROOT,
  liveMarker,
  maintenanceBranch,
  maintenanceMarker,
  maintenanceRoutes,
  nextServers,
  routeId,
  serverName,
  servesMaintenance,
  withMaintenanceBranch,
} from '../../../src/edge/caddy.js'
import { olderRoute, servers, up } from '../support/caddy.js'
import { EdgeRouteConflictError, EdgeStateError } from '../../../src/edge/errors.js'

describe('route ids and JSON', () => {
  it('names routes by app, environment, listen port and sanitized host', () => {
    expect(routeId('shop', 'production', { listen: 80 })).toBe('berth-shop-production-80')
    expect(routeId('shop', 'staging', { listen: 8080, host: 'Staging.Shop.test' })).toBe('berth-shop-staging-8080-staging_shop_test')
    expect(serverName(8080)).toBe('berth-8080')
  })

  it('builds a terminal route: the maintenance page while it exists, else to blue while the environment\'s marker file exists, else to green; host-matched when it has a host', () => {
    const proxy = (dial: string) => ({ handler: 'reverse_proxy', upstreams: [{ dial }] })
    expect(edgeRouteJson('shop', 'staging', { listen: 8080, host: 'Shop.test', upstreams: up(19311) })).toEqual({
      '@id': 'berth-shop-staging-8080-shop_test',
      match: [{ host: ['shop.test'] }],
      handle: [
        {
          handler: 'subroute',
          routes: [
            maintenanceBranch('shop', 'staging'),
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

  it('answers the maintenance page, while its file exists, with 503, Retry-After and no-store, for any request: served as a file, never run as a template', () => {
    expect(maintenanceMarker('shop', 'prod-2')).toBe('shop/prod-2/maintenance.html')
    expect(maintenanceBranch('shop', 'prod-2')).toEqual({
      match: [{ file: { root: LIVE_ROOT, try_files: ['shop/prod-2/maintenance.html'] } }],
      handle: [
        {
          handler: 'headers',
          // Conditional and range requests would get the file server's 304/206/412, which status_code turns into an empty 503.
          request: { delete: ['Range', 'If-Range', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since'] },
          response: { set: { 'Retry-After': ['120'], 'Cache-Control': ['no-store'] }, delete: ['Etag', 'Last-Modified', 'Accept-Ranges'], deferred: true },
        },
        { handler: 'rewrite', uri: '/shop/prod-2/maintenance.html' },
        { handler: 'file_server', root: LIVE_ROOT, status_code: 503 },
      ],
      terminal: true,
    })
    expect(JSON.stringify(maintenanceBranch('shop', 'prod-2'))).not.toMatch(/templates|\{\{/)
  })
})

describe('maintenance on routes of today and of an earlier berth', () => {
  /** Servers as a berth before maintenance left them: shop/production and shop/staging without the maintenance branch. */
  const older = (): CaddyServers => {
    const s = servers()
    s['berth-80']!.routes = [olderRoute('shop', 'production', { listen: 80, upstreams: up(19301) })]
    s['berth-8080']!.routes = [olderRoute('shop', 'staging', { listen: 8080, host: 'staging.shop.test', upstreams: up(19311) }), ...s['berth-8080']!.routes!.slice(1)]
    return s
  }

  it('reads both colours of a route of either shape', () => {
    const expected = [
      { id: 'berth-shop-production-80', listen: 80, upstreams: up(19301) },
      { id: 'berth-shop-staging-8080-staging_shop_test', listen: 8080, host: 'staging.shop.test', upstreams: up(19311) },
      { id: 'berth-blog-production-8080', listen: 8080, upstreams: up(19401) },
    ]
    expect(berthRoutes({ apps: { http: { servers: older() } } })).toEqual(expected)
    expect(berthRoutes({ apps: { http: { servers: servers() } } })).toEqual(expected)
  })

  it('tells a route that answers its maintenance page from an older one, and from another environment\'s', () => {
    const today = edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19301) })
    expect(servesMaintenance(today, 'shop', 'production')).toBe(true)
    expect(servesMaintenance(olderRoute('shop', 'production', { listen: 80, upstreams: up(19301) }), 'shop', 'production')).toBe(false)
    expect(servesMaintenance(today, 'shop', 'prod')).toBe(false)
    expect(servesMaintenance({ handle: [{ handler: 'static_response' }] } as CaddyRoute, 'shop', 'production')).toBe(false)
  })

  it("lists an environment's routes on the edge and those to rewrite, prod-2's never taken for prod's", () => {
    expect(maintenanceRoutes(servers(), 'shop', 'production')).toEqual({ ids: ['berth-shop-production-80'], outdated: [] })
    expect(maintenanceRoutes(older(), 'shop', 'staging')).toEqual({ ids: ['berth-shop-staging-8080-staging_shop_test'], outdated: ['berth-shop-staging-8080-staging_shop_test'] })
    expect(maintenanceRoutes(older(), 'blog', 'production')).toEqual({ ids: ['berth-blog-production-8080'], outdated: [] })
    const s = servers()
    s['berth-80']!.routes!.push(edgeRouteJson('shop', 'production-2', { listen: 80, host: 'two.test', upstreams: up(19501) }))
    expect(maintenanceRoutes(s, 'shop', 'production').ids).toEqual(['berth-shop-production-80'])
    expect(maintenanceRoutes(null, 'shop', 'production')).toEqual({ ids: [], outdated: [] })
    expect(maintenanceRoutes(servers(), 'shop', 'preview')).toEqual({ ids: [], outdated: [] })
  })

  it("rewrites an environment's older routes as today's, in place, from what they hold, and nothing else", () => {
    const after = withMaintenanceBranch(older(), 'shop', 'staging')
    expect(after['berth-8080']?.routes).toEqual(servers()['berth-8080']?.routes)
    expect(after['berth-80']).toEqual(older()['berth-80'])
    expect(after.mine).toEqual(older().mine)
    // Routes already of today's shape come out identical: no write, no reload.
    expect(withMaintenanceBranch(servers(), 'shop', 'production')).toEqual(servers())
  })

  it("refuses to rewrite an earlier berth's one-upstream route (exit 2): berth cannot tell its colours", () => {
    const single = { 'berth-80': { listen: [':80'], routes: [{ '@id': 'berth-shop-production-80', handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:1' }] }] }] } }
    expect(() => withMaintenanceBranch(single, 'shop', 'production')).toThrow(EdgeStateError)
    expect(() => withMaintenanceBranch(single, 'shop', 'production')).toThrow(/berth-shop-production-80 on the edge was written by an earlier berth with one upstream/)
    try {
      withMaintenanceBranch(single, 'shop', 'production')
    } catch (error) {
      expect(error).toMatchObject({ code: 'EDGE_ROUTES_OUTDATED', exitCode: 2, hint: expect.stringContaining('berth deploy production --tag') })
    }
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
