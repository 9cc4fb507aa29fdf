import { type CaddyRoute, type CaddyServers, edgeRouteJson, type EdgeRoute } from '../../../src/edge/caddy.js'

/** Upstreams of a route: blue on `port`, green 1000 above. */
export const up = (port: number) => ({ blue: `127.0.0.1:${port}`, green: `127.0.0.1:${port + 1000}` })

/** A host with shop/production on 80 (catch-all) and shop/staging on 8080 by host, plus a hand-made server. */
export function servers(): CaddyServers {
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

/** A route as a berth before maintenance wrote it: today's without its first branch, the maintenance page's. */
export function olderRoute(app: string, env: string, route: EdgeRoute): CaddyRoute {
  const today = edgeRouteJson(app, env, route)
  const sub = (today.handle as { routes: unknown[] }[])[0] as { routes: unknown[] }
  sub.routes = sub.routes.slice(1)
  return today
}
