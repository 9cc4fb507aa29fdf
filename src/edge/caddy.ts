/**
 * Pure model of berth's part of the edge's Caddy JSON config: route ids, route and server JSON, the change
 * one environment makes to the servers, and the list of berth routes a config holds. Nothing here talks
 * to Caddy (see admin.ts).
 *
 * A route holds both colours' upstreams at once, and which one serves is decided per request by a marker
 * file (see live.ts): the route sends to blue while `<live root>/<app>/<env>/blue` exists and to green
 * otherwise. A switch is then one rename(2) of that file and never a config change: every config change
 * makes Caddy 2 reload its servers, and a reload closes idle keep-alive connections, which a client
 * reusing one at that moment sees fail. Maintenance (SPEC §9) is a marker of the same kind: while the
 * environment's page `<live root>/<app>/<env>/maintenance.html` exists, the route answers it with 503.
 */

import { isDeepStrictEqual } from 'node:util'

import { EdgeRouteConflictError, EdgeStateError } from './errors.js'

export type EdgeColour = 'blue' | 'green'

/** Where the edge container sees the host's directory of live markers (mounted read-only). */
export const LIVE_ROOT = '/berth/live'

/** The marker file, relative to the live root, whose presence sends an environment's routes to blue. */
export function liveMarker(app: string, env: string): string {
  return `${app}/${env}/blue`
}

/**
 * The maintenance page, relative to the live root: while it exists, the environment's routes answer it with
 * 503 (see edge/maintenance.ts). Named .html so Caddy's file server gives it its content type.
 */
export function maintenanceMarker(app: string, env: string): string {
  return `${app}/${env}/maintenance.html`
}

/** Seconds a client is told to wait before it asks again (Retry-After), while an environment is in maintenance. */
export const MAINTENANCE_RETRY_AFTER_S = 120

/** How a route's host gets its certificate (SPEC §9): Caddy's automatic HTTPS from a public CA, or the edge's own local CA. */
export type EdgeTls = 'auto' | 'internal'

/** One route of one environment: a public listen port (optionally one Host) to its upstream in each colour. */
export interface EdgeRoute {
  listen: number
  host?: string
  /** HTTPS on the listen port for the host; absent: plain HTTP. Only with a host. */
  tls?: EdgeTls
  /** Dial addresses of each colour's published port on loopback, e.g. 127.0.0.1:19321. */
  upstreams: Record<EdgeColour, string>
}

/** The HTTPS port: its routes' hosts are redirected to https on the HTTP port, which is plain HTTP only. */
export const HTTPS_PORT = 443
export const HTTP_PORT = 80

/** A berth route as the edge holds it; an upstream berth cannot read from the route is absent. */
export interface BerthRoute {
  id: string
  listen: number
  host?: string
  upstreams: Partial<Record<EdgeColour, string>>
  /** Why berth cannot read it (changed by hand); a deploy of its environment refuses to overwrite it. */
  damage?: string
}

export interface CaddyRoute {
  '@id'?: string
  match?: Record<string, unknown>[]
  handle?: Record<string, unknown>[]
  terminal?: boolean
  [key: string]: unknown
}

export interface CaddyServer {
  listen?: string[]
  routes?: CaddyRoute[]
  [key: string]: unknown
}

export type CaddyServers = Record<string, CaddyServer>

/** The apps of a Caddy config that berth changes: the http servers, and the tls app's automation policies of its internal hosts. */
export interface CaddyApps {
  http?: { servers?: CaddyServers; [key: string]: unknown }
  tls?: { automation?: { policies?: Record<string, unknown>[]; [key: string]: unknown }; [key: string]: unknown }
  [key: string]: unknown
}

/** One write to Caddy's admin API. */
export interface AdminWrite {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  body?: unknown
}

/** Where berth keeps the servers it changes: one request here replaces all of them at once. */
export const SERVERS_PATH = '/config/apps/http/servers'
/** The servers and the tls app together: one request here changes routes and their certificates' policies at once. */
export const APPS_PATH = '/config/apps'

/** Host names are case-insensitive; ids keep only [a-z0-9-] so they stay readable in URLs (/id/<id>). */
function hostSlug(host: string): string {
  return host.toLowerCase().replace(/[^a-z0-9-]/g, '_')
}

export function routeId(app: string, env: string, route: { listen: number; host?: string }): string {
  return `berth-${app}-${env}-${route.listen}${route.host ? `-${hostSlug(route.host)}` : ''}`
}

export function serverName(listen: number): string {
  return `berth-${listen}`
}

/** Marks a redirect's id; no route id has it, since hostSlug keeps no dot. */
const REDIRECT_SUFFIX = '.redirect'

/** The id of the port-80 route that redirects a listen 443 route's host to https. */
export function redirectId(app: string, env: string, host: string): string {
  return `${routeId(app, env, { listen: HTTPS_PORT, host })}${REDIRECT_SUFFIX}`
}

function isRedirectId(id: unknown): boolean {
  return typeof id === 'string' && id.startsWith('berth-') && id.endsWith(REDIRECT_SUFFIX)
}

/** The id of the tls automation policy that gives a host a certificate of the edge's local CA. */
export function policyId(host: string): string {
  return `berth-tls-${hostSlug(host)}`
}

const proxyTo = (dial: string) => ({ handler: 'reverse_proxy', upstreams: [{ dial }] })

/** Request headers that would make the file server answer 304, 206 or 412 instead of the page: Caddy would turn each into a 503 without it. */
const CONDITIONAL_HEADERS = ['Range', 'If-Range', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since']

/**
 * The first branch of an environment's route: while its maintenance page exists, every request (any method)
 * gets the page with 503, Retry-After and no-store. Caddy 2.6's file server has `status_code`; the page is
 * served as a file, never run as a template, so nothing in the operator's message can do more than show.
 */
export function maintenanceBranch(app: string, env: string): CaddyRoute {
  const page = maintenanceMarker(app, env)
  return {
    match: [{ file: { root: LIVE_ROOT, try_files: [page] } }],
    handle: [
      {
        handler: 'headers',
        request: { delete: CONDITIONAL_HEADERS },
        // Deferred: applied when the file server writes its answer, so its validators go too.
        response: { set: { 'Retry-After': [String(MAINTENANCE_RETRY_AFTER_S)], 'Cache-Control': ['no-store'] }, delete: ['Etag', 'Last-Modified', 'Accept-Ranges'], deferred: true },
      },
      { handler: 'rewrite', uri: `/${page}` },
      { handler: 'file_server', root: LIVE_ROOT, status_code: 503 },
    ],
    terminal: true,
  }
}

/**
 * The route: the maintenance page while it exists, else to blue while the environment's marker file exists
 * (Caddy's file matcher stats both per request), else to green.
 */
export function edgeRouteJson(app: string, env: string, route: EdgeRoute): CaddyRoute {
  return {
    '@id': routeId(app, env, route),
    ...(route.host ? { match: [{ host: [route.host.toLowerCase()] }] } : {}),
    handle: [
      {
        handler: 'subroute',
        routes: [
          maintenanceBranch(app, env),
          { match: [{ file: { root: LIVE_ROOT, try_files: [liveMarker(app, env)] } }], handle: [proxyTo(route.upstreams.blue)], terminal: true },
          { handle: [proxyTo(route.upstreams.green)], terminal: true },
        ],
      },
    ],
    terminal: true,
  }
}

/**
 * A listen port's server. Plain HTTP: never ask for certificates. HTTPS: Caddy's automatic HTTPS gets and renews
 * a certificate for each host its routes match (from the CA the host's tls policy names), without its own
 * redirect server: Caddy would take port 80 for every HTTPS port, while berth redirects only the hosts of
 * listen 443 routes, as routes of its own on port 80 (redirectRouteJson), where another route may own the host.
 */
export function edgeServerJson(listen: number, tls = false): CaddyServer {
  return { listen: [`:${listen}`], ...serverTlsJson(tls), routes: [] }
}

function serverTlsJson(tls: boolean): Pick<CaddyServer, 'automatic_https'> {
  return { automatic_https: tls ? { disable_redirects: true } : { disable: true } }
}

/**
 * Whether a server answers HTTPS, as Caddy decides it: it has TLS connection policies, or its automatic HTTPS
 * is on, it listens on a port other than the HTTP port, and one of its routes matches a host.
 */
export function isTlsServer(server: CaddyServer): boolean {
  if (Array.isArray(server.tls_connection_policies)) return true
  const auto = server.automatic_https
  if (isObject(auto) && auto.disable === true) return false
  return serverPorts(server).some((p) => p !== HTTP_PORT) && (server.routes ?? []).some((r) => isObject(r) && routeHost(r) !== undefined)
}

/** Port 80's answer to a host whose listen 443 route is HTTPS: a permanent redirect to the same URL over https. */
export function redirectRouteJson(app: string, env: string, host: string): CaddyRoute {
  return {
    '@id': redirectId(app, env, host),
    match: [{ host: [host.toLowerCase()] }],
    handle: [{ handler: 'static_response', status_code: 308, headers: { Location: ['https://{http.request.host}{http.request.uri}'] } }],
    terminal: true,
  }
}

/** The tls policy of a host with tls: internal: its certificate comes from the edge's local CA (root in Caddy's data dir, on the edge's volume). */
export function internalPolicyJson(host: string): Record<string, unknown> {
  return { '@id': policyId(host), subjects: [host.toLowerCase()], issuers: [{ module: 'internal' }] }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function serversStructureDamage(servers: Record<string, unknown>): string[] {
  return Object.entries(servers).flatMap(([name, server]): string[] => {
    if (!isObject(server)) return [`server ${name} is not an object`]
    const out: string[] = []
    if (server.listen !== undefined && !(Array.isArray(server.listen) && server.listen.every((l) => typeof l === 'string'))) out.push(`server ${name}: listen is not a list of addresses`)
    if (server.routes !== undefined && !(Array.isArray(server.routes) && server.routes.every(isObject))) out.push(`server ${name}: routes is not a list of routes`)
    return out
  })
}

/**
 * A route berth can read: its shape (both colours' upstreams), or an earlier berth's (one upstream), which
 * the next deploy replaces. Anything else under a berth id was changed by hand into something berth
 * cannot tell the upstreams of, and berth will not overwrite it.
 */
function routeDamage(route: CaddyRoute): string | undefined {
  if (dialOf(route.handle) !== undefined) return undefined
  const u = upstreamsOf(route)
  const missing = (['blue', 'green'] as const).filter((c) => u[c] === undefined)
  return missing.length === 0 ? undefined : `it is not a route berth wrote (no ${missing.join(' or ')} upstream berth can read)`
}

export function refuseDamagedServers(servers: unknown, app: string, env: string): void {
  if (!isObject(servers)) throw configDamageError(['apps.http.servers is not an object'])
  const structure = serversStructureDamage(servers)
  if (structure.length > 0) throw configDamageError(structure)
  for (const [name, server] of Object.entries(servers as CaddyServers)) {
    for (const route of server.routes ?? []) {
      const damage = ownedBy(app, env, serverPorts(server), route) ? routeDamage(route) : undefined
      if (damage) throw configDamageError([`route ${String(route['@id'])} of server ${name}: ${damage}`], String(route['@id']))
    }
  }
}

export function configDamageError(damage: readonly string[], id?: string): EdgeStateError {
  return new EdgeStateError(
    `the edge's config holds what berth cannot make sense of: ${damage.join('; ')}`,
    `Nothing on the edge was changed. See it as root: curl --unix-socket <edge dir>/admin/admin.sock -H 'Host: berth' http://berth/config/apps/http/servers. ` +
      `Put it back as berth wrote it, or remove it${id ? ` (-X DELETE http://berth/id/${id})` : ''}: the next deploy adds this environment's routes again.`,
  )
}

/** Ports a server listens on (Caddy listen addresses look like ":80", "127.0.0.1:80", "tcp/[::]:80"). */
function serverPorts(server: CaddyServer): number[] {
  const listen = Array.isArray(server.listen) ? server.listen : []
  return listen.flatMap((address) => {
    const m = /:(\d+)$/.exec(String(address))
    return m ? [Number(m[1])] : []
  })
}

/** The single Host a route matches, lowercased; undefined for a catch-all or any other matcher. */
function routeHost(route: CaddyRoute): string | undefined {
  const sets = Array.isArray(route.match) ? route.match : []
  const hosts = sets.length === 1 && isObject(sets[0]) ? sets[0].host : undefined
  return Array.isArray(hosts) && hosts.length === 1 && typeof hosts[0] === 'string' ? hosts[0].toLowerCase() : undefined
}

function isCatchAll(route: CaddyRoute): boolean {
  return !Array.isArray(route.match) || route.match.length === 0
}

function dialOf(handlers: unknown): string | undefined {
  const proxy = Array.isArray(handlers) ? handlers.find((h) => isObject(h) && h.handler === 'reverse_proxy') : undefined
  const first: unknown = isObject(proxy) && Array.isArray(proxy.upstreams) ? proxy.upstreams[0] : undefined
  return isObject(first) && typeof first.dial === 'string' ? first.dial : undefined
}

function branchesOf(route: CaddyRoute): CaddyRoute[] {
  const sub = Array.isArray(route.handle) ? route.handle.find((h) => isObject(h) && h.handler === 'subroute') : undefined
  return isObject(sub) && Array.isArray(sub.routes) ? (sub.routes.filter(isObject) as CaddyRoute[]) : []
}

/**
 * Each colour's upstream of a route as edgeRouteJson builds it, or as berth built it before maintenance (no
 * maintenance branch, which proxies nowhere and so is passed over): the marker-matched proxy is blue, the other green.
 */
function upstreamsOf(route: CaddyRoute): Partial<Record<EdgeColour, string>> {
  const out: Partial<Record<EdgeColour, string>> = {}
  for (const branch of branchesOf(route)) {
    const dial = dialOf(branch.handle)
    if (dial) out[Array.isArray(branch.match) && branch.match.length > 0 ? 'blue' : 'green'] ??= dial
  }
  return out
}

function describeUpstreams(route: CaddyRoute): string {
  if (isRedirectId(route['@id'])) return 'a redirect to https'
  const u = upstreamsOf(route)
  const parts = (['blue', 'green'] as const).flatMap((c) => (u[c] ? [`${c} ${u[c]}`] : []))
  return parts.length ? parts.join(', ') : (dialOf(route.handle) ?? 'another handler')
}

/**
 * Whether a route belongs to this environment: its id is exactly the one berth gives this environment's
 * route with that listen port and host. A prefix test would also take `prod-2`'s routes for `prod`'s.
 */
function ownedBy(app: string, env: string, ports: readonly number[], route: CaddyRoute): boolean {
  return ownedListen(app, env, ports, route) !== undefined
}

/** Whether a route is this environment's redirect to https (on port 80). */
function ownedRedirect(app: string, env: string, ports: readonly number[], route: CaddyRoute): boolean {
  const host = routeHost(route)
  return host !== undefined && ports.includes(HTTP_PORT) && route['@id'] === redirectId(app, env, host)
}

/** The listen port of the environment's route that this one is (ownedBy), else undefined. */
function ownedListen(app: string, env: string, ports: readonly number[], route: CaddyRoute): number | undefined {
  const id = route['@id']
  if (typeof id !== 'string') return undefined
  const host = routeHost(route)
  if (host === undefined && !isCatchAll(route)) return undefined
  return ports.find((listen) => id === routeId(app, env, { listen, ...(host ? { host } : {}) }))
}

function routeKey(route: { listen: number; host?: string }): string {
  return `${route.listen} ${route.host?.toLowerCase() ?? '*'}`
}

/** A route berth writes for an environment: one of its routes, or the redirect to https of one. */
interface WantedRoute {
  listen: number
  host?: string
  tls: boolean
  json: CaddyRoute
}

/**
 * What this environment's routes put on the edge: each route, and for each HTTPS route on port 443 the
 * redirect of its host on port 80, unless the environment routes that host on port 80 itself.
 */
function wantedRoutes(app: string, env: string, routes: readonly EdgeRoute[]): Map<string, WantedRoute> {
  const wanted = new Map<string, WantedRoute>()
  for (const route of routes) {
    if (!Number.isInteger(route.listen) || route.listen < 1 || route.listen > 65535) throw new RangeError(`invalid listen port ${route.listen}`)
    if ([...wanted.values()].some((r) => routeKey(r) === routeKey(route))) throw new RangeError(`route ${routeKey(route)} is given twice`)
    if (route.tls && (!route.host || route.listen === HTTP_PORT)) throw new RangeError(`route ${routeKey(route)}: tls needs a host, and a port other than ${HTTP_PORT}`)
    wanted.set(routeId(app, env, route), { listen: route.listen, ...(route.host ? { host: route.host.toLowerCase() } : {}), tls: route.tls !== undefined, json: edgeRouteJson(app, env, route) })
  }
  for (const host of redirectedHosts(routes)) wanted.set(redirectId(app, env, host), { listen: HTTP_PORT, host, tls: false, json: redirectRouteJson(app, env, host) })
  return wanted
}

function tlsConflict(app: string, env: string, listen: number, tls: boolean, name: string, server: CaddyServer, other: CaddyRoute | undefined): EdgeRouteConflictError {
  const holder = other ? `route ${other['@id'] ?? 'without an id'} of server ${name}` : `server ${name}`
  return new EdgeRouteConflictError(
    `${app}/${env} cannot route listen ${listen} as ${tls ? 'HTTPS' : 'plain HTTP'}: the edge serves that port as ${isTlsServer(server) ? 'HTTPS' : 'plain HTTP'} for ${holder}`,
    'One listen port is HTTPS or plain HTTP for every route on it (routes[].tls): give this route another listen port. Nothing on the edge was changed. See: berth doctor',
  )
}

/**
 * The servers object after this environment's routes become `routes`: its routes elsewhere are removed,
 * existing ones are updated in place, new ones are added (host-matched routes before the server's first
 * catch-all, catch-alls last), and a berth server left without routes is removed. A berth server of this
 * environment's routes alone takes their tls. Every other route stays exactly as it was. Throws
 * EdgeRouteConflictError, changing nothing, when another route already answers the same listen port and host,
 * or the port is HTTPS where this route is plain HTTP (or the other way round).
 */
export function nextServers(current: CaddyServers | null | undefined, app: string, env: string, routes: readonly EdgeRoute[]): CaddyServers {
  const wanted = wantedRoutes(app, env, routes)

  // The whole servers object is written back: berth must be able to read all of it, and this environment's routes.
  refuseDamagedServers(current ?? {}, app, env)
  const servers: CaddyServers = structuredClone(current ?? {})
  const placed = new Set<string>()
  const emptied = new Set<string>()
  const own = (ports: readonly number[], route: CaddyRoute) => ownedBy(app, env, ports, route) || ownedRedirect(app, env, ports, route)
  for (const [name, server] of Object.entries(servers)) {
    if (!Array.isArray(server.routes)) continue
    const ports = serverPorts(server)
    const before = server.routes.length
    server.routes = server.routes.flatMap((route) => {
      if (!own(ports, route)) return [route]
      const id = route['@id'] as string
      const update = wanted.get(id)
      if (!update || placed.has(id)) return []
      placed.add(id)
      return [update.json]
    })
    if (server.routes.length < before) emptied.add(name)
  }

  for (const [id, route] of wanted) {
    if (placed.has(id)) continue
    const name = Object.keys(servers).find((n) => serverPorts(servers[n] as CaddyServer).includes(route.listen)) ?? serverName(route.listen)
    const server = (servers[name] ??= edgeServerJson(route.listen, route.tls))
    const list = (server.routes ??= [])
    const host = route.host
    const rival = list.find((r) => (host ? routeHost(r) === host : isCatchAll(r)))
    if (rival) {
      const what = isRedirectId(id) ? `redirect port ${HTTP_PORT} to https for host ${host}` : `route listen ${route.listen}${host ? ` for host ${host}` : ''}`
      throw new EdgeRouteConflictError(
        `${app}/${env} cannot ${what}: the edge already sends it to ${describeUpstreams(rival)} (route ${rival['@id'] ?? 'without an id'} of server ${name})`,
        'Two environments share a listen port only with distinct hosts (routes[].host); nothing on the edge was changed. See: berth doctor',
      )
    }
    const firstCatchAll = list.findIndex(isCatchAll)
    list.splice(host && firstCatchAll >= 0 ? firstCatchAll : list.length, 0, route.json)
    placed.add(id)
  }

  // One server per port is HTTPS or not for all its routes: one of this environment's alone follows them, any other must agree.
  for (const [name, server] of Object.entries(servers)) {
    const ports = serverPorts(server)
    const mine = (server.routes ?? []).flatMap((r) => {
      const w = own(ports, r) ? wanted.get(r['@id'] as string) : undefined
      return w ? [w] : []
    })
    const first = mine[0]
    if (first === undefined) continue
    if (mine.some((w) => w.tls !== first.tls)) throw new RangeError(`listen ${first.listen} is given both as HTTPS and as plain HTTP`)
    const others = (server.routes ?? []).filter((r) => !own(ports, r))
    if (others.length === 0) {
      if (name === serverName(first.listen)) Object.assign(server, serverTlsJson(first.tls))
      continue
    }
    // What the port is for the routes already there: Caddy's answer without this environment's.
    const rest = { ...server, routes: others }
    if (isTlsServer(rest) !== first.tls) throw tlsConflict(app, env, first.listen, first.tls, name, rest, others.find((r) => routeHost(r) !== undefined) ?? others[0])
  }

  for (const name of emptied) {
    const server = servers[name] as CaddyServer
    if (server.routes?.length === 0 && serverPorts(server).some((p) => name === serverName(p))) delete servers[name]
  }
  return servers
}

/**
 * The tls policies after this environment's routes become `routes`: one policy (policyId) for each host that an
 * HTTPS route on the edge serves with tls: internal; hosts with tls: auto need none (Caddy's default issuers).
 * A host's tls is one for the whole edge: another environment's HTTPS route of the same host with the other
 * tls is EdgeRouteConflictError. Other policies stay as they are; berth's go before the first catch-all one,
 * which Caddy would apply to every name after it.
 */
export function nextPolicies(current: readonly Record<string, unknown>[] | undefined, servers: CaddyServers, app: string, env: string, routes: readonly EdgeRoute[]): Record<string, unknown>[] {
  const internal = new Set((current ?? []).flatMap((p) => (typeof p['@id'] === 'string' && p['@id'].startsWith('berth-tls-') && Array.isArray(p.subjects) ? p.subjects.filter((h): h is string => typeof h === 'string') : [])))
  const mine = new Map(routes.flatMap((r) => (r.tls && r.host ? [[r.host.toLowerCase(), r.tls] as const] : [])))
  const mineIds = new Set(routes.map((r) => routeId(app, env, r)))
  const modes = new Map<string, EdgeTls>()
  for (const [name, server] of Object.entries(servers)) {
    if (!isTlsServer(server)) continue
    for (const route of server.routes ?? []) {
      const id = route['@id']
      const host = routeHost(route)
      if (typeof id !== 'string' || !id.startsWith('berth-') || mineIds.has(id) || host === undefined) continue
      const tls: EdgeTls = internal.has(host) ? 'internal' : 'auto'
      const want = mine.get(host)
      if (want && want !== tls) {
        throw new EdgeRouteConflictError(
          `${app}/${env} cannot serve host ${host} with tls: ${want}: route ${id} of server ${name} serves it with tls: ${tls}, and one name has one certificate on the edge`,
          'Give every route of that host the same tls (routes[].tls). Nothing on the edge was changed. See: berth doctor',
        )
      }
      modes.set(host, tls)
    }
  }
  for (const [host, tls] of mine) modes.set(host, tls)
  const hosts = [...modes].filter(([, tls]) => tls === 'internal').map(([host]) => host)

  const kept = (current ?? []).filter((p) => {
    const id = p['@id']
    if (typeof id !== 'string' || !id.startsWith('berth-tls-')) return true
    return hosts.some((h) => policyId(h) === id)
  })
  const missing = hosts.filter((h) => !kept.some((p) => p['@id'] === policyId(h))).map(internalPolicyJson)
  const firstCatchAll = kept.findIndex((p) => !Array.isArray(p.subjects) || p.subjects.length === 0)
  kept.splice(firstCatchAll >= 0 ? firstCatchAll : kept.length, 0, ...missing)
  return kept
}

/**
 * The apps after this environment's routes become `routes` (SPEC §9): the servers (nextServers) and the tls
 * policies of their hosts (nextPolicies), written together in one change. A tls app berth leaves without
 * policies, and nothing else, is removed.
 */
export function nextApps(current: CaddyApps | null | undefined, app: string, env: string, routes: readonly EdgeRoute[]): CaddyApps {
  const apps: CaddyApps = structuredClone(current ?? {})
  const servers = nextServers(apps.http?.servers, app, env, routes)
  apps.http = { ...(apps.http ?? {}), servers }
  const policies = nextPolicies(apps.tls?.automation?.policies, servers, app, env, routes)
  if (policies.length > 0) {
    apps.tls = { ...(apps.tls ?? {}), automation: { ...(apps.tls?.automation ?? {}), policies } }
  } else if (apps.tls) {
    const { policies: _gone, ...automation } = apps.tls.automation ?? {}
    const { automation: _was, ...tls } = apps.tls
    if (Object.keys(automation).length > 0) apps.tls = { ...tls, automation }
    else if (Object.keys(tls).length > 0) apps.tls = tls
    else delete apps.tls
  }
  return apps
}

/** The ports the http servers of a whole Caddy config listen on. */
export function listenPorts(config: unknown): number[] {
  const servers = isObject(config) && isObject(config.apps) && isObject(config.apps.http) ? config.apps.http.servers : undefined
  return isObject(servers) ? Object.values(servers).flatMap((s) => (isObject(s) ? serverPorts(s as CaddyServer) : [])) : []
}

/**
 * The hosts of routes whose port-80 redirect to https berth writes (nextServers): HTTPS routes on 443 whose
 * environment does not route the host on port 80 itself.
 */
export function redirectedHosts(routes: readonly { listen: number; host?: string; tls?: string }[]): string[] {
  const https = routes.filter((r) => r.listen === HTTPS_PORT && r.host !== undefined && r.tls !== undefined && r.tls !== 'off')
  return https.map((r) => (r.host as string).toLowerCase()).filter((h) => !routes.some((r) => r.listen === HTTP_PORT && r.host?.toLowerCase() === h))
}

/** Every berth route in a whole Caddy config (GET /config/), in config order. */
export function berthRoutes(config: unknown): BerthRoute[] {
  const servers = isObject(config) && isObject(config.apps) && isObject(config.apps.http) ? config.apps.http.servers : undefined
  return berthRoutesOfServers(isObject(servers) ? (servers as CaddyServers) : {})
}

export function berthRoutesOfServers(servers: CaddyServers): BerthRoute[] {
  const out: BerthRoute[] = []
  for (const server of Object.values(servers)) {
    if (!isObject(server) || !Array.isArray(server.routes)) continue
    const listen = serverPorts(server)[0]
    if (listen === undefined) continue
    for (const route of server.routes) {
      const id = isObject(route) ? route['@id'] : undefined
      if (typeof id !== 'string' || !id.startsWith('berth-') || isRedirectId(id)) continue
      const host = routeHost(route)
      const damage = routeDamage(route)
      out.push({ id, listen, ...(host ? { host } : {}), upstreams: upstreamsOf(route), ...(damage ? { damage } : {}) })
    }
  }
  return out
}

/** Whether a route answers its environment's maintenance page first; routes written by a berth before maintenance do not. */
export function servesMaintenance(route: CaddyRoute, app: string, env: string): boolean {
  const first = branchesOf(route)[0]
  return first !== undefined && isDeepStrictEqual(first, maintenanceBranch(app, env))
}

/** This environment's routes in the servers, as the edge holds them, each with the listen port its id names. */
function ownRoutes(servers: CaddyServers, app: string, env: string): { route: CaddyRoute; listen: number; tls: boolean }[] {
  const out: { route: CaddyRoute; listen: number; tls: boolean }[] = []
  for (const server of Object.values(servers)) {
    if (!isObject(server) || !Array.isArray(server.routes)) continue
    const ports = serverPorts(server)
    for (const route of server.routes) {
      const listen = isObject(route) ? ownedListen(app, env, ports, route) : undefined
      if (listen !== undefined) out.push({ route, listen, tls: isTlsServer(server) })
    }
  }
  return out
}

/** What `berth maintenance ENV on` finds of the environment on the edge: its route ids, and those of an older shape, without the maintenance branch. */
export function maintenanceRoutes(servers: CaddyServers | null | undefined, app: string, env: string): { ids: string[]; outdated: string[] } {
  const own = ownRoutes(servers ?? {}, app, env)
  return { ids: own.map((r) => r.route['@id'] as string), outdated: own.filter((r) => !servesMaintenance(r.route, app, env)).map((r) => r.route['@id'] as string) }
}

/**
 * The servers with this environment's routes rewritten as edgeRouteJson builds them today, from what each holds
 * (listen port, host, both colours' upstreams): a route of a berth before maintenance gains its maintenance
 * branch, and nothing else changes. A route whose colours berth cannot both read (an earlier berth's
 * one-upstream route) is refused, EdgeStateError: its next deploy writes it whole.
 */
export function withMaintenanceBranch(current: CaddyServers | null | undefined, app: string, env: string): CaddyServers {
  refuseDamagedServers(current ?? {}, app, env)
  const routes = ownRoutes(current ?? {}, app, env).map(({ route, listen, tls }): EdgeRoute => {
    const { blue, green } = upstreamsOf(route)
    if (!blue || !green) {
      throw new EdgeStateError(
        `route ${String(route['@id'])} on the edge was written by an earlier berth with one upstream: berth cannot rewrite it for maintenance`,
        `Deploy ${env} once (berth deploy ${env} --tag <its active release>, see berth status ${env}): its routes are then written whole. Nothing was changed.`,
        'EDGE_ROUTES_OUTDATED',
      )
    }
    const host = routeHost(route)
    // nextServers asks only whether a route is HTTPS; the host's tls policy is not in the servers, and stays as it is.
    return { listen, ...(host ? { host } : {}), ...(tls ? { tls: 'auto' as const } : {}), upstreams: { blue, green } }
  })
  return nextServers(current, app, env, routes)
}

/** The routes of one environment among berth's routes. */
export function environmentRoutes(routes: readonly BerthRoute[], app: string, env: string): BerthRoute[] {
  return routes.filter((r) => r.id === routeId(app, env, r))
}
