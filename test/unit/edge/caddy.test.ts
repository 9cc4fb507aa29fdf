import { describe, expect, it } from 'vitest'

import {
  berthRoutes,
  type CaddyApps,
  type CaddyRoute,
  type CaddyServers,
  edgeRouteJson,
  type EdgeRoute,
  type EdgeTls,
  environmentRoutes,
  internalPolicyJson,
  LIVE_ROOT,
  liveMarker,
  maintenanceBranch,
  maintenanceMarker,
  maintenanceRoutes,
  nextApps,
  nextServers,
  redirectRouteJson,
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

describe('HTTPS routes (routes[].tls)', () => {
  const route = (tls: EdgeTls | undefined, listen = 443, host = 'Shop.test', port = 19601): EdgeRoute => ({ listen, host, ...(tls ? { tls } : {}), upstreams: up(port) })
  const empty = (): CaddyApps => ({ http: { servers: {} } })
  const redirect = {
    '@id': 'berth-shop-production-443-shop_test.redirect',
    match: [{ host: ['shop.test'] }],
    handle: [{ handler: 'static_response', status_code: 308, headers: { Location: ['https://{http.request.host}{http.request.uri}'] } }],
    terminal: true,
  }

  it('tls: internal on 443: an HTTPS server without Caddy\'s own redirects, the host\'s redirect on port 80, and a policy naming the local CA', () => {
    expect(redirectRouteJson('shop', 'production', 'Shop.test')).toEqual(redirect)
    expect(nextApps(empty(), 'shop', 'production', [route('internal')])).toEqual({
      http: {
        servers: {
          'berth-443': { listen: [':443'], automatic_https: { disable_redirects: true }, routes: [edgeRouteJson('shop', 'production', route('internal'))] },
          'berth-80': { listen: [':80'], automatic_https: { disable: true }, routes: [redirect] },
        },
      },
      tls: { automation: { policies: [{ '@id': 'berth-tls-shop_test', subjects: ['shop.test'], issuers: [{ module: 'internal' }] }] } },
    })
  })

  it('tls: auto on 443: the same servers and no policy (Caddy\'s default issuers); on another port no redirect and nothing on port 80', () => {
    const auto = nextApps(empty(), 'shop', 'production', [route('auto')])
    expect(auto).toEqual({ http: { servers: nextApps(empty(), 'shop', 'production', [route('internal')]).http?.servers } })
    expect(nextApps(empty(), 'shop', 'production', [route('auto', 8443)])).toEqual({
      http: { servers: { 'berth-8443': { listen: [':8443'], automatic_https: { disable_redirects: true }, routes: [edgeRouteJson('shop', 'production', route('auto', 8443))] } } },
    })
  })

  it('tls: off (no tls) stays plain HTTP on any port, 443 too: no certificate, no redirect', () => {
    expect(nextApps(empty(), 'shop', 'production', [route(undefined)])).toEqual({
      http: { servers: { 'berth-443': { listen: [':443'], automatic_https: { disable: true }, routes: [edgeRouteJson('shop', 'production', route(undefined))] } } },
    })
  })

  it('switches colours as plain routes do: the same route JSON, maintenance branch first, both upstreams readable; a second write is no change', () => {
    const apps = nextApps(empty(), 'shop', 'production', [route('internal')])
    const written = apps.http?.servers?.['berth-443']?.routes?.[0] as CaddyRoute
    expect(written).toEqual(edgeRouteJson('shop', 'production', route(undefined)))
    expect(servesMaintenance(written, 'shop', 'production')).toBe(true)
    // The redirect is not a route of its own: status and doctor list the HTTPS route only.
    expect(berthRoutes({ apps })).toEqual([{ id: 'berth-shop-production-443-shop_test', listen: 443, host: 'shop.test', upstreams: up(19601) }])
    expect(nextApps(apps, 'shop', 'production', [route('internal')])).toEqual(apps)
    expect(withMaintenanceBranch(apps.http?.servers, 'shop', 'production')).toEqual(apps.http?.servers)
  })

  it('takes its routes, redirect and policy away again, and only its own', () => {
    const both = nextApps(nextApps(empty(), 'shop', 'production', [route('internal')]), 'blog', 'production', [route('internal', 443, 'blog.test', 19701)])
    const blogOnly = nextApps(empty(), 'blog', 'production', [route('internal', 443, 'blog.test', 19701)])
    expect(nextApps(both, 'shop', 'production', [])).toEqual(blogOnly)
    expect(nextApps(blogOnly, 'blog', 'production', [])).toEqual({ http: { servers: {} } })
  })

  it("redirects on port 80 before another environment's catch-all there, and not a host the environment routes on port 80 itself", () => {
    const withCatchAll: CaddyApps = { http: { servers: servers() } }
    const after = nextApps(withCatchAll, 'shop', 'staging', [route('auto')])
    expect(after.http?.servers?.['berth-80']?.routes?.map((r) => r['@id'])).toEqual(['berth-shop-staging-443-shop_test.redirect', 'berth-shop-production-80'])
    const own = nextApps(empty(), 'shop', 'production', [route('auto'), { listen: 80, host: 'shop.test', upstreams: up(19602) }])
    expect(own.http?.servers?.['berth-80']?.routes?.map((r) => r['@id'])).toEqual(['berth-shop-production-80-shop_test'])
  })

  it("refuses, changing nothing, a redirect of a host another environment routes on port 80, and a port another environment's routes serve the other way", () => {
    const plain80 = nextApps(empty(), 'blog', 'production', [{ listen: 80, host: 'shop.test', upstreams: up(19801) }])
    expect(() => nextApps(plain80, 'shop', 'production', [route('internal')])).toThrow(EdgeRouteConflictError)
    expect(() => nextApps(plain80, 'shop', 'production', [route('internal')])).toThrow(
      /shop\/production cannot redirect port 80 to https for host shop.test: the edge already sends it to blue 127.0.0.1:19801, green 127.0.0.1:20801/,
    )
    const https = nextApps(empty(), 'blog', 'production', [route('auto', 8443, 'blog.test')])
    expect(() => nextApps(https, 'shop', 'production', [route(undefined, 8443)])).toThrow(
      'shop/production cannot route listen 8443 as plain HTTP: the edge serves that port as HTTPS for route berth-blog-production-8443-blog_test of server berth-8443',
    )
    const plain = nextApps(empty(), 'blog', 'production', [route(undefined, 8443, 'blog.test')])
    expect(() => nextApps(plain, 'shop', 'production', [route('internal', 8443)])).toThrow(/cannot route listen 8443 as HTTPS: the edge serves that port as plain HTTP/)
    // A berth server of one environment alone follows its routes when they change.
    expect(nextApps(plain, 'blog', 'production', [route('auto', 8443, 'blog.test')])).toEqual(nextApps(empty(), 'blog', 'production', [route('auto', 8443, 'blog.test')]))
  })

  it("keeps one tls per host across the edge, and berth's policies before an operator's catch-all policy", () => {
    const internal = nextApps(empty(), 'shop', 'production', [route('internal')])
    expect(() => nextApps(internal, 'shop', 'staging', [route('auto', 8443)])).toThrow(
      /shop\/staging cannot serve host shop.test with tls: auto: route berth-shop-production-443-shop_test of server berth-443 serves it with tls: internal/,
    )
    const shared = nextApps(internal, 'shop', 'staging', [route('internal', 8443)])
    expect(shared.tls?.automation?.policies).toEqual([{ '@id': 'berth-tls-shop_test', subjects: ['shop.test'], issuers: [{ module: 'internal' }] }])
    // While staging still serves the host, production's going keeps the policy.
    expect(nextApps(shared, 'shop', 'production', []).tls?.automation?.policies).toHaveLength(1)

    const operator: CaddyApps = { http: { servers: {} }, tls: { automation: { policies: [{ issuers: [{ module: 'acme', email: 'ops@example.com' }] }] } } }
    expect(nextApps(operator, 'shop', 'production', [route('internal')]).tls?.automation?.policies).toEqual([internalPolicyJson('shop.test'), { issuers: [{ module: 'acme', email: 'ops@example.com' }] }])
    expect(nextApps(nextApps(operator, 'shop', 'production', [route('internal')]), 'shop', 'production', [])).toEqual(operator)
  })

  it('refuses tls on a route without a host or on port 80 (the config never gives one)', () => {
    expect(() => nextApps(empty(), 'shop', 'production', [{ listen: 8443, tls: 'auto', upstreams: up(1) }])).toThrow(RangeError)
    expect(() => nextApps(empty(), 'shop', 'production', [route('internal', 80)])).toThrow(RangeError)
  })
})
