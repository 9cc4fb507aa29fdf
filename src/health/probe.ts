import type { HttpProbe } from '../config/types.js'
import { plainRequest } from '../http/request.js'
import type { ProbeResult } from './wait.js'

export interface ProbeOptions {
  timeoutMs?: number
  /**
   * A unix socket of this machine that reaches the URL's host:port from the engine's host (an SSH forward,
   * SPEC §10): the request goes through it, with the URL's host as its Host header.
   */
  socketPath?: (hostPort: string) => Promise<string>
}

/** host:port of a URL, with the scheme's port when it names none. */
export function hostPort(url: URL): string {
  // An IPv6 address keeps its brackets, as ssh -L takes it: [::1]:9000.
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'DELETE'
  url: string
  headers?: Record<string, string>
  /** https: the TLS server name to send; the certificate is then not verified (HttpProbe.servername). */
  servername?: string
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One HTTP request from the host (through `socketPath` when given); throws when no answer comes. */
export async function httpRequest(req: HttpRequest, options: ProbeOptions = {}): Promise<HttpAnswer> {
  const socketPath = options.socketPath ? await options.socketPath(hostPort(new URL(req.url))) : undefined
  const res = await plainRequest({
    method: req.method,
    url: req.url,
    timeoutMs: options.timeoutMs ?? 5000,
    ...(socketPath ? { socketPath } : {}),
    ...(req.headers ? { headers: req.headers } : {}),
    ...(req.servername ? { servername: req.servername } : {}),
  })
  return { status: res.status, headers: res.headers, body: res.body }
}

/** What a request that got no answer ran into, as people read it (ECONNREFUSED, a timeout, …). */
export function requestFailure(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(error)
}

/** One HTTP GET from the host; never throws, so the health loop can retry. */
export async function probeHttp(probe: HttpProbe, options: ProbeOptions = {}): Promise<ProbeResult> {
  try {
    const res = await httpRequest({ method: 'GET', url: probe.url, ...(probe.host ? { headers: { host: probe.host } } : {}), ...(probe.servername ? { servername: probe.servername } : {}) }, options)
    const { body } = res
    const statusOk = probe.status !== undefined ? res.status === probe.status : res.status >= 200 && res.status < 300
    if (!statusOk) return { ok: false, detail: `HTTP ${res.status} (expected ${probe.status ?? '2xx'}): ${excerpt(body)}` }
    if (probe.contains !== undefined && !body.includes(probe.contains)) {
      return { ok: false, detail: `HTTP ${res.status} but the body does not contain "${probe.contains}": ${excerpt(body)}` }
    }
    return { ok: true, detail: `HTTP ${res.status}` }
  } catch (error) {
    return { ok: false, detail: requestFailure(error) }
  }
}

function excerpt(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim()
  return oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine || '(empty body)'
}
