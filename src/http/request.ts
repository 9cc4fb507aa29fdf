import type * as Http from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type * as Https from 'node:https'
import { builtin } from './builtin.js'

/**
 * One HTTP request with Node's own client (node:http, node:https), for the requests on the path of a switch:
 * the health probes and the edge's admin API. undici costs about 75 ms to load (measured in a CPU profile of
 * `berth rollback` to the idle colour), more than the whole switch; node:http is part of Node, its parser is
 * native, and the engine's socket reads (docker/socket.ts) already load it. Webhooks keep undici (SPEC §11):
 * they are sent after a run's outcome is known. Every request here closes its connection (no agent keeps it):
 * a config load may restart Caddy's admin server, and a probe is one request.
 */
export interface PlainRequest {
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
  /** A unix socket to connect to instead of the URL's host:port (the URL's host is then only the Host header). */
  socketPath?: string
  /** https: the TLS server name to send; the certificate is then not verified. */
  servername?: string
  /** One bound on the whole request: connecting, the answer's headers and its body (TIMEOUT past it). */
  timeoutMs: number
}

export interface PlainAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** HTTP trailers (Caddy sends the ETag of a config read as one). */
  trailers: Record<string, string | undefined>
  body: string
}

/** An error of the connection or a timeout, with the errno-like code people read (ECONNREFUSED, TIMEOUT …). */
export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export async function plainRequest(req: PlainRequest): Promise<PlainAnswer> {
  const url = new URL(req.url)
  const https = url.protocol === 'https:'
  // node:http on the first request, node:https (and TLS with it) on the first https: one.
  const request = https ? builtin<typeof Https>('node:https').request : builtin<typeof Http>('node:http').request
  return new Promise<PlainAnswer>((resolve, reject) => {
    let settled = false
    const fail = (error: Error & { code?: string }) => {
      if (settled) return
      settled = true
      reject(error instanceof RequestFailed ? error : new RequestFailed(error.message, error.code ?? 'ERROR'))
    }
    const headers: Record<string, string> = { ...req.headers }
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body))
    const r = request(
      {
        method: req.method,
        ...(req.socketPath ? { socketPath: req.socketPath } : { hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port || (https ? 443 : 80) }),
        path: `${url.pathname}${url.search}`,
        headers: { host: url.host, ...headers },
        agent: false,
        ...(https && req.servername ? { servername: req.servername, rejectUnauthorized: false } : {}),
      },
      (res: IncomingMessage) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('error', fail)
        res.on('end', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          const trailers = Object.fromEntries(Object.entries(res.trailers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]))
          resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers, body })
        })
      },
    )
    const timer = setTimeout(() => {
      fail(new RequestFailed(`no answer within ${req.timeoutMs} ms`, 'TIMEOUT'))
      r.destroy()
    }, req.timeoutMs)
    r.on('error', (error) => {
      clearTimeout(timer)
      fail(error)
    })
    r.end(req.body)
  })
}
