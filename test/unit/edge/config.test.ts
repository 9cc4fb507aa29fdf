import { describe, expect, it } from 'vitest'

import { type CaddyServers, edgeRouteJson, nextServers } from '../../../src/edge/caddy.js'
import { adminExposure, adminListen, adminToSocket, configDamage, httpAppSetup, initialConfig, refuseDamagedConfig, tcpAddress } from '../../../src/edge/config.js'
import { EdgeStateError } from '../../../src/edge/errors.js'
import { servers, up } from '../support/caddy.js'

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
    sub.routes = sub.routes.slice(0, -1)
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
