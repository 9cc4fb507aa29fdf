import type { HttpProbe } from '../config/types.js'
import type { ProbeResult } from './wait.js'

/** One HTTP GET from the host; never throws, so the health loop can retry. */
export async function probeHttp(probe: HttpProbe, timeoutMs = 5000): Promise<ProbeResult> {
  try {
    // Imported on first use: only deploys and rollbacks probe.
    const { request } = await import('undici')
    const res = await request(probe.url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(probe.host ? { headers: { host: probe.host } } : {}) })
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
