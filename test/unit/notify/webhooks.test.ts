import { afterEach, describe, expect, it } from 'vitest'

import { DELIVERY_POLICY, type DeliveryPolicy, postWebhooks } from '../../../src/notify/webhooks.js'
import { QUICK_DELIVERY, webhookServers } from '../support/webhookServer.js'

const QUICK: DeliveryPolicy = QUICK_DELIVERY

const { server, closeAll } = webhookServers()
afterEach(closeAll)

const BODY = JSON.stringify({ app: 'shop', env: 'staging', result: 'ok' })

describe('postWebhooks', () => {
  it('POSTs the JSON once to an endpoint that answers 200', async () => {
    const s = await server()
    const [delivery] = await postWebhooks([`${s.origin}/hooks/a`], BODY, QUICK)

    expect(delivery).toEqual({ ok: true, attempts: 1, detail: 'HTTP 200' })
    expect(s.received).toHaveLength(1)
    expect(s.received[0]).toMatchObject({ method: 'POST', path: '/hooks/a', headers: { 'content-type': 'application/json' } })
    expect(JSON.parse(s.received[0]?.body ?? '')).toEqual({ app: 'shop', env: 'staging', result: 'ok' })
  })

  it('tries again after a 500, twice, and is delivered by the third request', async () => {
    const s = await server((n) => (n < 2 ? { status: 500, body: 'busy' } : { status: 200 }))
    const started = performance.now()
    const [delivery] = await postWebhooks([`${s.origin}/hooks/b`], BODY, QUICK)

    expect(delivery).toEqual({ ok: true, attempts: 3, detail: 'HTTP 200' })
    expect(s.received.map((r) => r.body)).toEqual([BODY, BODY, BODY])
    // The backoff was waited: 25 ms, then 100 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(120)
  })

  it('gives up on an endpoint that never answers within the deadline, without throwing', async () => {
    const s = await server(() => 'hang')
    const started = performance.now()
    const [delivery] = await postWebhooks([`${s.origin}/hooks/c`], BODY, QUICK)
    const took = performance.now() - started

    expect(delivery?.ok).toBe(false)
    expect(delivery?.detail).toMatch(/no answer/)
    // 300 ms, 25 ms, 300 ms, 100 ms: the third request is cut by the 800 ms deadline (or not sent, on a slow machine).
    expect(s.received.length).toBeGreaterThanOrEqual(2)
    expect(took).toBeGreaterThanOrEqual(QUICK.deadlineMs - 20)
    expect(took).toBeLessThan(QUICK.deadlineMs + 400)
  })

  it('holds one deadline for all webhooks together, not one each', async () => {
    const hanging = await server(() => 'hang')
    const alive = await server()
    const started = performance.now()
    const deliveries = await postWebhooks([`${hanging.origin}/1`, `${hanging.origin}/2`, `${alive.origin}/3`], BODY, QUICK)

    expect(deliveries.map((d) => d.ok)).toEqual([false, false, true])
    expect(performance.now() - started).toBeLessThan(QUICK.deadlineMs + 400)
  })

  it('does not repeat a request the endpoint refused for good (404), and names the answer', async () => {
    const s = await server(() => ({ status: 404, body: 'no such hook' }))
    const [delivery] = await postWebhooks([`${s.origin}/hooks/d`], BODY, QUICK)

    expect(delivery).toEqual({ ok: false, attempts: 1, detail: 'HTTP 404: no such hook' })
    expect(s.received).toHaveLength(1)
  })

  it('tries a refused connection three times and says what happened', async () => {
    const s = await server()
    const origin = s.origin
    await s.close()
    const [delivery] = await postWebhooks([`${origin}/hooks/e`], BODY, QUICK)
    expect(delivery).toEqual({ ok: false, attempts: 3, detail: 'ECONNREFUSED' })
  })

  it('is bounded by default to a few seconds added to a run', () => {
    // The worst case of one webhook, if nothing cut it: every request timing out, and every pause between them.
    const unbounded = DELIVERY_POLICY.attempts * DELIVERY_POLICY.requestTimeoutMs + DELIVERY_POLICY.backoffMs.reduce((a, b) => a + b, 0)
    expect(Math.min(unbounded, DELIVERY_POLICY.deadlineMs)).toBeLessThanOrEqual(5000)
    expect(DELIVERY_POLICY).toEqual({ attempts: 3, backoffMs: [250, 1000], requestTimeoutMs: 2000, deadlineMs: 5000 })
  })
})
