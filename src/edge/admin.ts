import { defaultHint } from '../errorCodes.js'
import { type PlainAnswer, plainRequest } from '../http/request.js'

import type { AdminWrite, CaddyApps, CaddyServers } from './caddy.js'
import { APPS_PATH, SERVERS_PATH } from './caddy.js'
import { ADMIN_ORIGIN } from './config.js'
import { EdgeAdminError, EdgeUnavailableError } from './errors.js'

/** A config value read from the admin API, with the ETag Caddy sends for it (as an HTTP trailer). */
export interface ConfigRead {
  value: unknown
  etag?: string
}

/** Where an admin API answers: berth's unix socket (a host path), or TCP only to move an earlier berth's edge off it. */
export type AdminAddress = { socket: string } | { tcp: string }


/**
 * A small client of Caddy's admin API. Every request closes its connection: a config load may restart the
 * admin server, and a kept-alive socket would then fail.
 */
export class CaddyAdmin {
  /** The socket path or TCP address, for messages. */
  readonly address: string

  constructor(
    readonly at: AdminAddress,
    private readonly timeoutMs = 5000,
  ) {
    this.address = 'socket' in at ? at.socket : at.tcp
  }

  async get(path: string): Promise<ConfigRead> {
    const res = await this.request('GET', path)
    return { value: res.text.trim() === '' ? null : (JSON.parse(res.text) as unknown), ...(res.etag ? { etag: res.etag } : {}) }
  }

  async write(op: AdminWrite, ifMatch?: string): Promise<void> {
    await this.request(op.method, op.path, op.body, ifMatch)
  }

  /**
   * Replaces the whole servers object in one request, computed by `change` from a fresh read, so an
   * environment's routes on several listen ports change together or not at all. The write carries the
   * read's ETag (If-Match): if another berth (another environment, another app) changed the servers in
   * between, Caddy answers 412 and the change is recomputed from a new read instead of undoing theirs.
   */
  async updateServers(change: (current: CaddyServers | null) => CaddyServers, sleep: (ms: number) => Promise<void>, attempts = 8): Promise<void> {
    await this.update(SERVERS_PATH, change, sleep, attempts)
  }

  /** As updateServers, for the apps: routes and the tls policies of their hosts change together (SPEC §9 HTTPS). */
  async updateApps(change: (current: CaddyApps | null) => CaddyApps, sleep: (ms: number) => Promise<void>, attempts = 8): Promise<void> {
    await this.update(APPS_PATH, change, sleep, attempts)
  }

  private async update<T>(path: string, change: (current: T | null) => T, sleep: (ms: number) => Promise<void>, attempts: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { value, etag } = await this.get(path)
      const next = change(value as T | null)
      // Caddy answers objects with sorted keys: compare canonically, or every unchanged switch would reload it.
      if (canonicalJson(next) === canonicalJson(value)) return
      try {
        await this.write({ method: 'POST', path, body: next }, etag)
        return
      } catch (error) {
        if (!(error instanceof EdgeAdminError && error.status === 412) || attempt >= attempts) throw error
        await sleep(50 * attempt)
      }
    }
  }

  private async request(method: string, path: string, body?: unknown, ifMatch?: string): Promise<{ text: string; etag?: string }> {
    let res: PlainAnswer
    try {
      // On the socket, the URL's host is only the Host header, which admin.origins must allow.
      res = await plainRequest({
        method,
        url: `http://${'socket' in this.at ? ADMIN_ORIGIN : this.at.tcp}${path}`,
        ...('socket' in this.at ? { socketPath: this.at.socket } : {}),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(ifMatch ? { 'if-match': ifMatch } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: this.timeoutMs,
      })
    } catch (error) {
      const errno = (error as { code?: string }).code
      const denied = errno === 'EACCES' || errno === 'EPERM'
      throw new EdgeUnavailableError(`the edge's admin API does not answer on ${this.address} (${errno ?? (error as Error).message ?? String(error)})`, denied ? defaultHint('EDGE_ROOT_ONLY') : undefined, errno)
    }
    const text = res.body
    if (res.status < 200 || res.status >= 300) {
      throw new EdgeAdminError(method, path, res.status, caddyError(text), res.status === 412 ? undefined : 'Nothing on the edge was changed by this request. See: docker compose -p berth-edge logs caddy')
    }
    const etag = res.trailers.etag ?? headerValue(res.headers.etag)
    return { text, ...(etag ? { etag } : {}) }
  }
}

/** JSON with every object's keys sorted, so two equal values give the same text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Caddy answers errors as {"error": "..."}; anything else is passed on as text. */
function caddyError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown }
    if (typeof parsed.error === 'string') return parsed.error
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim() || '(empty answer)'
}
