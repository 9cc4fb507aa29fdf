import type { HttpProbe } from '../config/types.js'
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

/** One HTTP GET from the host; never throws, so the health loop can retry. */
export async function probeHttp(probe: HttpProbe, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 5000
  try {
    // Imported on first use: only deploys and rollbacks probe.
    const { request, Agent } = await import('undici')
    const socketPath = options.socketPath ? await options.socketPath(hostPort(new URL(probe.url))) : undefined
    const dispatcher = socketPath ? new Agent({ connect: { socketPath } }) : undefined
    const res = await request(probe.url, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(dispatcher ? { dispatcher } : {}),
      ...(probe.host ? { headers: { host: probe.host } } : {}),
    }).finally(() => dispatcher?.close())
    const body = await res.body.text()
    const statusOk = probe.status !== undefined ? res.statusCode === probe.status : res.statusCode >= 200 && res.statusCode < 300
    if (!statusOk) return { ok: false, detail: `HTTP ${res.statusCode} (expected ${probe.status ?? '2xx'}): ${excerpt(body)}` }
    if (probe.contains !== undefined && !body.includes(probe.contains)) {
      return { ok: false, detail: `HTTP ${res.statusCode} but the body does not contain "${probe.contains}": ${excerpt(body)}` }
    }
    return { ok: true, detail: `HTTP ${res.statusCode}` }
  } catch (error) {
    const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } }
    return { ok: false, detail: e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(error) }
  }
}

function excerpt(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim()
  return oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine || '(empty body)'
}
