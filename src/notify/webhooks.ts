import { setTimeout as sleep } from 'node:timers/promises'

import { requestFailure } from '../health/probe.js'

/**
 * SPEC §11: how hard berth tries. Every webhook gets `attempts` tries, `backoffMs[i]` apart, each cut at
 * `requestTimeoutMs`; all of them together end at `deadlineMs`, so a dead endpoint adds a few seconds to a
 * run at most, however many webhooks there are.
 */
export interface DeliveryPolicy {
  attempts: number
  backoffMs: readonly number[]
  requestTimeoutMs: number
  deadlineMs: number
}

export const DELIVERY_POLICY: DeliveryPolicy = { attempts: 3, backoffMs: [250, 1000], requestTimeoutMs: 2000, deadlineMs: 5000 }

export interface Delivery {
  ok: boolean
  /** Requests sent (a request cut by the deadline counts). */
  attempts: number
  /** The last answer or failure, as people read it: `HTTP 200`, `HTTP 500: <body excerpt>`, ECONNREFUSED, a timeout. */
  detail: string
}

/**
 * POSTs `body` (JSON) to every URL at once; never throws. A 2xx answer is delivered; a 5xx or 429 answer,
 * a refused connection or a timeout is tried again; any other answer (a 404, a 401) would be the same next
 * time, so it is not. The caller masks what it shows: a detail may echo the URL.
 */
export async function postWebhooks(urls: readonly string[], body: string, policy: DeliveryPolicy = DELIVERY_POLICY): Promise<Delivery[]> {
  if (urls.length === 0) return []
  // Imported on first use, as probes do; an agent of its own, destroyed at the end, so that a socket of an
  // endpoint that never answers cannot keep the process alive.
  const { Agent, request } = await import('../http/undici.js')
  const dispatcher = new Agent({ connectTimeout: policy.requestTimeoutMs })
  const deadline = AbortSignal.timeout(policy.deadlineMs)
  const post = async (url: string): Promise<Delivery> => {
    let last = 'not sent'
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      if (deadline.aborted) return { ok: false, attempts: attempt - 1, detail: `${last}; gave up at the ${policy.deadlineMs / 1000}s limit` }
      const signal = AbortSignal.any([deadline, AbortSignal.timeout(policy.requestTimeoutMs)])
      let retry: boolean
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'berth' },
          body,
          dispatcher,
          signal,
          headersTimeout: policy.requestTimeoutMs,
          bodyTimeout: policy.requestTimeoutMs,
        })
        const text = await res.body.text()
        if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, attempts: attempt, detail: `HTTP ${res.statusCode}` }
        last = `HTTP ${res.statusCode}${excerpt(text)}`
        retry = res.statusCode >= 500 || res.statusCode === 429
      } catch (error) {
        last = deadline.aborted ? 'no answer' : signal.aborted ? `no answer within ${policy.requestTimeoutMs / 1000}s` : requestFailure(error)
        retry = true
      }
      if (!retry) return { ok: false, attempts: attempt, detail: last }
      if (attempt === policy.attempts) break
      const pause = policy.backoffMs[Math.min(attempt - 1, policy.backoffMs.length - 1)] ?? 0
      await sleep(pause, undefined, { signal: deadline }).catch(() => undefined)
    }
    return { ok: false, attempts: policy.attempts, detail: deadline.aborted ? `${last}; gave up at the ${policy.deadlineMs / 1000}s limit` : last }
  }
  try {
    return await Promise.all(urls.map(post))
  } finally {
    await dispatcher.destroy()
  }
}

function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim()
  if (line === '') return ''
  return `: ${line.length > 120 ? `${line.slice(0, 120)}…` : line}`
}
