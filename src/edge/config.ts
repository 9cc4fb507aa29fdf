import { type AdminWrite, berthRoutes, configDamageError, isObject, refuseDamagedServers, SERVERS_PATH, serversStructureDamage } from './caddy.js'

/**
 * The edge's whole Caddy config, beyond berth's routes (caddy.ts): where its admin API listens — the socket
 * in a root-only directory — the http app berth needs, and what berth cannot make sense of in it. Pure.
 */

/** Where the edge container sees the host's admin directory (root's, mode 0700): Caddy makes its admin socket there. */
export const ADMIN_ROOT = '/berth/admin'
export const ADMIN_SOCKET = 'admin.sock'
/**
 * The Host berth sends to the admin API. Caddy checks every admin request's Host against `admin.origins`
 * and, on a unix socket, accepts none by default but an empty one, which undici cannot send.
 */
export const ADMIN_ORIGIN = 'berth'

/**
 * The admin API on a unix socket in a directory only root can enter, not on a TCP port that any local
 * user can reach (SPEC §9): reading the config shows every route, and one write reroutes them.
 */
export function adminConfig(): { listen: string; origins: string[] } {
  return { listen: `unix/${ADMIN_ROOT}/${ADMIN_SOCKET}`, origins: [ADMIN_ORIGIN] }
}

/** What the edge starts with: the admin API on its socket and an empty http app. */
export function initialConfig(): Record<string, unknown> {
  return { admin: adminConfig(), apps: { http: { servers: {} } } }
}

/** Caddy's default admin address, used when a config names none. */
const CADDY_DEFAULT_ADMIN = 'localhost:2019'

/** `admin.listen` of a whole config, as Caddy reads it. */
export function adminListen(config: unknown): string {
  const admin = isObject(config) ? config.admin : undefined
  return isObject(admin) && typeof admin.listen === 'string' && admin.listen !== '' ? admin.listen : CADDY_DEFAULT_ADMIN
}

/**
 * The TCP address a Caddy listen address dials ("127.0.0.1:2019", "tcp/[::1]:2019", ":2019"), or undefined
 * for a unix socket ("unix//path") or another network.
 */
export function tcpAddress(listen: string): string | undefined {
  const slash = listen.indexOf('/')
  const network = slash >= 0 ? listen.slice(0, slash) : ''
  if (network !== '' && !/^tcp[46]?$/.test(network)) return undefined
  const address = slash >= 0 ? listen.slice(slash + 1) : listen
  return address.startsWith(':') ? `localhost${address}` : address
}

/**
 * How a config's admin API can be reached by someone other than root, one line each: over TCP, through a
 * remote admin endpoint, or (a config that is not berth's) on another socket. Empty when only on berth's socket.
 */
export function adminExposure(config: unknown): string[] {
  const admin = isObject(config) ? config.admin : undefined
  const out: string[] = []
  if (isObject(admin) && admin.disabled === true) return ['its admin API is disabled: berth cannot change its routes']
  const listen = adminListen(config)
  const tcp = tcpAddress(listen)
  if (tcp) out.push(`its admin API listens on TCP ${tcp}, where every local user can read and rewrite the routes`)
  else if (listen !== adminConfig().listen) out.push(`its admin API listens on ${listen}, not on berth's socket ${adminConfig().listen}`)
  const remote = isObject(admin) ? admin.remote : undefined
  if (isObject(remote)) out.push(`its remote admin API listens on TCP ${typeof remote.listen === 'string' ? remote.listen : ':2021'}`)
  return out
}

/**
 * The write that moves an admin API from TCP to berth's socket, sent through the TCP address it listens on
 * (an edge of an earlier berth, resuming a config saved with its TCP admin). Caddy answers, then moves its
 * admin server and saves the config, so it comes back on the socket after every later restart.
 */
export function adminToSocket(config: unknown): AdminWrite {
  const admin = isObject(config) && isObject(config.admin) ? config.admin : {}
  return { method: 'POST', path: '/config/admin', body: { ...admin, ...adminConfig() } }
}

/**
 * The write that gives a config without an http app one, if needed. Only what is missing is filled in: a
 * part that is there but not an object is damage berth will not overwrite (EdgeStateError).
 */
export function httpAppSetup(config: unknown): AdminWrite | undefined {
  if (config === null || config === undefined) return { method: 'POST', path: '/load', body: initialConfig() }
  const damage = configStructureDamage(config)
  if (damage.length > 0) throw configDamageError(damage)
  const apps = (config as Record<string, unknown>).apps
  if (!isObject(apps)) return { method: 'POST', path: '/config/apps', body: { http: { servers: {} } } }
  const http = apps.http
  if (!isObject(http)) return { method: 'POST', path: '/config/apps/http', body: { servers: {} } }
  if (!isObject(http.servers)) return { method: 'POST', path: SERVERS_PATH, body: {} }
  return undefined
}

/**
 * What berth cannot read in the shape of a config's http servers, one line each. Caddy itself saves none
 * of these; a config loaded by hand, or a restored autosave, might hold them.
 */
function configStructureDamage(config: unknown): string[] {
  if (!isObject(config)) return ['the config is not an object']
  const at = (key: string, value: unknown, path: string): string[] => (value === undefined || value === null || isObject(value) ? [] : [`${path}.${key} is not an object`])
  const apps = config.apps
  const http = isObject(apps) ? apps.http : undefined
  const servers = isObject(http) ? http.servers : undefined
  return [...at('apps', apps, 'the config'), ...at('http', http, 'apps'), ...at('servers', servers, 'apps.http'), ...(isObject(servers) ? serversStructureDamage(servers) : [])]
}

/** Every piece of the config berth cannot make sense of (for doctor): its structure, and each berth route it cannot read. */
export function configDamage(config: unknown): string[] {
  if (config === null || config === undefined) return []
  const structure = configStructureDamage(config)
  if (structure.length > 0) return structure
  return berthRoutes(config).flatMap((r) => (r.damage ? [`route ${r.id} (listen ${r.listen}): ${r.damage}`] : []))
}

/**
 * Throws EdgeStateError when berth could not write this environment's routes into the config without
 * overwriting what it cannot read: the servers' structure, or a route with this environment's id that is
 * not one berth wrote. Other environments' routes are kept as they are, whatever they hold.
 */
export function refuseDamagedConfig(config: unknown, app: string, env: string): void {
  if (config === null || config === undefined) return
  const structure = configStructureDamage(config)
  if (structure.length > 0) throw configDamageError(structure)
  const apps = (config as Record<string, unknown>).apps
  const http = isObject(apps) ? apps.http : undefined
  const servers = isObject(http) ? http.servers : undefined
  refuseDamagedServers(servers ?? {}, app, env)
}
