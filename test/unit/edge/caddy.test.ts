import { describe, expect, it } from 'vitest'

import {
  adminExposure,
  adminListen,
  adminToSocket,
  berthRoutes,
  type CaddyServers,
  configDamage,
  edgeRouteJson,
  environmentRoutes,
  httpAppSetup,
  initialConfig,
  LIVE_ROOT,
  liveMarker,
  nextServers,
  refuseDamagedConfig,
  routeId,
  serverName,
  tcpAddress,
} from '../../../src/edge/caddy.js'
import { EdgeRouteConflictError, EdgeStateError } from '../../../src/edge/errors.js'

/** Upstreams of a route: blue on `port`, green 1000 above. */
const up = (port: number) => ({ blue: `127.0.0.1:${port}`, green: `127.0.0.1:${port + 1000}` })

/** A host with shop/production on 80 (catch-all) and shop/staging on 8080 by host, plus a hand-made server. */
function servers(): CaddyServers {
  return {
    'berth-80': {
      listen: [':80'],
      automatic_https: { disable: true },
      routes: [edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19301) })],
    },
    'berth-8080': {
      listen: [':8080'],
      automatic_https: { disable: true },
      routes: [
        edgeRouteJson('shop', 'staging', { listen: 8080, host: 'staging.shop.test', upstreams: up(19311) }),
        edgeRouteJson('blog', 'production', { listen: 8080, upstreams: up(19401) }),
      ],
    },
    mine: { listen: [':9000'], routes: [{ handle: [{ handler: 'static_response', body: 'hi' }] }] },
  }
}

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

describe('httpAppSetup', () => {
  it('loads the initial config into an empty Caddy and fills in only what is missing otherwise', () => {
    expect(httpAppSetup(null)).toEqual({ method: 'POST', path: '/load', body: initialConfig() })
    expect(httpAppSetup({ admin: {} })).toEqual({ method: 'POST', path: '/config/apps', body: { http: { servers: {} } } })
    expect(httpAppSetup({ apps: { tls: {} } })).toEqual({ method: 'POST', path: '/config/apps/http', body: { servers: {} } })
    expect(httpAppSetup({ apps: { http: {} } })).toEqual({ method: 'POST', path: '/config/apps/http/servers', body: {} })
    expect(httpAppSetup(initialConfig())).toBeUndefined()
  })
})

describe('the admin API: on a root-only socket, never on TCP', () => {
  it('starts the edge with its admin API on the socket in the mounted admin directory, accepting Host: berth', () => {
    expect(initialConfig()).toEqual({ admin: { listen: 'unix//berth/admin/admin.sock', origins: ['berth'] }, apps: { http: { servers: {} } } })
    expect(adminExposure(initialConfig())).toEqual([])
  })

  it("reads admin.listen as Caddy does (its default when there is none) and tells TCP from a socket", () => {
    expect(adminListen(initialConfig())).toBe('unix//berth/admin/admin.sock')
    expect(adminListen({ apps: {} })).toBe('localhost:2019')
    expect(adminListen(null)).toBe('localhost:2019')
    expect(['127.0.0.1:19190', 'tcp/127.0.0.1:2019', 'tcp6/[::1]:2019', ':2019', 'localhost:2019'].map(tcpAddress)).toEqual([
      '127.0.0.1:19190',
      '127.0.0.1:2019',
      '[::1]:2019',
      'localhost:2019',
      'localhost:2019',
    ])
    expect(['unix//berth/admin/admin.sock', 'unix/relative.sock', 'udp/127.0.0.1:1'].map(tcpAddress)).toEqual([undefined, undefined, undefined])
  })

  it('names every way other users reach an admin API: TCP (an earlier berth, or no admin at all), a remote admin, another socket', () => {
    expect(adminExposure({ admin: { listen: '127.0.0.1:19190' } })).toEqual(['its admin API listens on TCP 127.0.0.1:19190, where every local user can read and rewrite the routes'])
    expect(adminExposure({})).toEqual(['its admin API listens on TCP localhost:2019, where every local user can read and rewrite the routes'])
    expect(adminExposure({ admin: { ...initialConfig().admin as object, remote: { listen: ':2021' } } })).toEqual(['its remote admin API listens on TCP :2021'])
    expect(adminExposure({ admin: { listen: 'unix//tmp/caddy.sock' } })).toEqual(["its admin API listens on unix//tmp/caddy.sock, not on berth's socket unix//berth/admin/admin.sock"])
    expect(adminExposure({ admin: { disabled: true } })).toEqual(['its admin API is disabled: berth cannot change its routes'])
  })

  it("moves an earlier berth's TCP admin API to the socket, keeping its other admin settings", () => {
    expect(adminToSocket({ admin: { listen: '127.0.0.1:19190', config: { persist: true } }, apps: {} })).toEqual({
      method: 'POST',
      path: '/config/admin',
      body: { listen: 'unix//berth/admin/admin.sock', origins: ['berth'], config: { persist: true } },
    })
    expect(adminToSocket({ apps: {} }).body).toEqual({ listen: 'unix//berth/admin/admin.sock', origins: ['berth'] })
  })
})

describe('edge config berth cannot make sense of', () => {
  const config = (s: unknown) => ({ apps: { http: { servers: s } } })
  const production = () => edgeRouteJson('shop', 'production', { listen: 80, upstreams: up(19301) })
  /** production's route with its green branch gone: berth cannot tell where green goes. */
  const oneBranch = (): CaddyServers => {
    const route = production()
    const sub = (route.handle as { routes: unknown[] }[])[0] as { routes: unknown[] }
    sub.routes = sub.routes.slice(0, 1)
    return { 'berth-80': { listen: [':80'], routes: [route] } }
  }

  it("refuses to overwrite this environment's route when berth cannot read it, naming it and what to do (exit 2)", () => {
    const write = () => nextServers(oneBranch(), 'shop', 'production', [{ listen: 80, upstreams: up(19302) }])
    expect(write).toThrow(EdgeStateError)
    expect(write).toThrow(/route berth-shop-production-80 of server berth-80: it is not a route berth wrote \(no green upstream berth can read\)/)
    try {
      write()
    } catch (error) {
      expect(error).toMatchObject({ code: 'EDGE_STATE_DAMAGED', exitCode: 2, hint: expect.stringContaining('-X DELETE http://berth/id/berth-shop-production-80') })
    }
    expect(() => refuseDamagedConfig(config(oneBranch()), 'shop', 'production')).toThrow(EdgeStateError)
    expect(configDamage(config(oneBranch()))).toEqual(['route berth-shop-production-80 (listen 80): it is not a route berth wrote (no green upstream berth can read)'])
  })

  it("keeps another environment's unreadable route as it is, and replaces an earlier berth's one-upstream route", () => {
    const after = nextServers(oneBranch(), 'shop', 'staging', [{ listen: 8080, upstreams: up(19311) }])
    expect(after['berth-80']).toEqual(oneBranch()['berth-80'])
    expect(() => refuseDamagedConfig(config(oneBranch()), 'shop', 'staging')).not.toThrow()
    const earlier = { 'berth-80': { listen: [':80'], routes: [{ '@id': 'berth-shop-production-80', handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:1' }] }] }] } }
    expect(nextServers(earlier, 'shop', 'production', [{ listen: 80, upstreams: up(19301) }])['berth-80']?.routes).toEqual([production()])
  })

  it('refuses servers, routes or apps of a shape berth cannot read, and fills in only what is missing', () => {
    expect(() => nextServers({ s: { listen: ':80' } } as unknown as CaddyServers, 'a', 'b', [])).toThrow(/server s: listen is not a list of addresses/)
    expect(() => nextServers({ s: { routes: [null] } } as unknown as CaddyServers, 'a', 'b', [])).toThrow(/server s: routes is not a list of routes/)
    expect(() => nextServers([] as unknown as CaddyServers, 'a', 'b', [])).toThrow(/apps.http.servers is not an object/)
    expect(() => httpAppSetup({ apps: { http: 'off' } })).toThrow(EdgeStateError)
    expect(() => httpAppSetup([])).toThrow(/the config is not an object/)
    expect(configDamage({ apps: { http: { servers: { s: 5 } } } })).toEqual(['server s is not an object'])
    expect(configDamage({ apps: { http: { servers: servers() } } })).toEqual([])
    expect(configDamage(null)).toEqual([])
  })
})
