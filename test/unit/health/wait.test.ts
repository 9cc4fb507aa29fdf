import { describe, expect, it } from 'vitest'
import type { HttpProbe } from '../../../src/config/types.js'
import { type HealthDeps, type HealthPlan, type ProbeResult, SAFETY_POLL_MS, serviceVerdict, waitHealthy } from '../../../src/health/wait.js'
import type { Container } from '../../../src/docker/parse.js'

function container(service: string, state: string, status: string, health = ''): Container {
  return {
    id: `${service}-id`,
    name: `shop-staging-${service}-1`,
    image: `shop-${service}:20261122-093000`,
    state,
    health,
    status,
    ports: '',
    labels: { 'com.docker.compose.project': 'shop-staging', 'com.docker.compose.service': service },
    project: 'shop-staging',
    service,
    createdAt: '2026-11-22 09:30:05 +0000 UTC',
  }
}

const starting = (s: string) => container(s, 'running', 'Up 1 second (health: starting)', 'starting')
const healthy = (s: string) => container(s, 'running', 'Up 9 seconds (healthy)', 'healthy')
const unhealthy = (s: string) => container(s, 'running', 'Up 40 seconds (unhealthy)', 'unhealthy')
const running = (s: string) => container(s, 'running', 'Up 3 seconds')
const exited = (s: string, code: number) => container(s, 'exited', `Exited (${code}) 1 second ago`)

/**
 * Scripted world: poll i sees polls[i] (the last one repeats), probes answer from a script per URL,
 * and sleep moves a fake clock.
 */
function fakeDeps(polls: Container[][], probeAnswers: Record<string, ProbeResult[]> = {}) {
  let clock = 1_000_000
  const start = clock
  const calls = { polls: 0, sleeps: [] as number[], probes: [] as string[] }
  const deps: HealthDeps = {
    containers: async () => {
      const list = polls[Math.min(calls.polls, polls.length - 1)] ?? []
      calls.polls++
      return list
    },
    probe: async (probe: HttpProbe) => {
      const answers = probeAnswers[probe.url] ?? []
      const n = calls.probes.filter((u) => u === probe.url).length
      calls.probes.push(probe.url)
      return answers[Math.min(n, answers.length - 1)] ?? { ok: false, detail: 'no answer scripted' }
    },
    sleep: async (ms: number) => {
      calls.sleeps.push(ms)
      clock += ms
    },
    now: () => clock,
  }
  return { deps, calls, elapsed: () => clock - start }
}

function plan(over: Partial<HealthPlan> = {}): HealthPlan {
  return { services: ['web', 'db'], oneOff: new Set(), probes: [], timeoutMs: 60_000, intervalMs: 2_000, ...over }
}

const updates: string[] = []
const update = (m: string) => {
  updates.push(m)
}

describe('waitHealthy: services', () => {
  it('is ok once every service is healthy, after N polls', async () => {
    const { deps, calls, elapsed } = fakeDeps([
      [starting('web'), starting('db')],
      [starting('web'), healthy('db')],
      [healthy('web'), healthy('db')],
    ])
    // The containers as last seen: the caller records their config hashes from them.
    expect(await waitHealthy(plan(), deps, update)).toEqual({ ok: true, containers: [healthy('web'), healthy('db')] })
    expect(calls.polls).toBe(3)
    expect(calls.sleeps).toEqual([2_000, 2_000])
    expect(elapsed()).toBe(4_000)
  })

  it('waits for a service whose container does not exist yet', async () => {
    const { deps, calls } = fakeDeps([[healthy('db')], [healthy('db'), healthy('web')]])
    expect(await waitHealthy(plan(), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2)
  })

  it('a service without healthcheck is ready when running', async () => {
    const { deps, calls } = fakeDeps([[running('web'), running('db')]])
    expect(await waitHealthy(plan(), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(1)
    expect(calls.sleeps).toEqual([])
  })

  it('a created (not yet running) container is waited for', async () => {
    const { deps, calls } = fakeDeps([[container('web', 'created', 'Created'), running('db')], [running('web'), running('db')]])
    expect(await waitHealthy(plan(), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2)
  })

  it('fails at once on unhealthy, long before the timeout', async () => {
    const { deps, calls, elapsed } = fakeDeps([
      [starting('web'), healthy('db')],
      [unhealthy('web'), healthy('db')],
      [healthy('web'), healthy('db')], // never reached
    ])
    const result = await waitHealthy(plan({ timeoutMs: 600_000 }), deps, update)
    expect(result).toEqual({
      ok: false,
      failure: { check: 'service web', lastError: 'shop-staging-web-1 is unhealthy', services: ['web'] },
    })
    expect(calls.polls).toBe(2)
    expect(elapsed()).toBe(2_000)
  })

  it('fails at once when a long-running service exited, even with code 0', async () => {
    const { deps, calls, elapsed } = fakeDeps([[healthy('web'), exited('db', 0)]])
    const result = await waitHealthy(plan(), deps, update)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.failure.check).toBe('service db')
    expect(result.failure.lastError).toContain('Exited (0)')
    expect(result.failure.services).toEqual(['db'])
    expect(calls.polls).toBe(1)
    expect(elapsed()).toBe(0)
  })

  it('fails at once on a dead container', async () => {
    const { deps, calls } = fakeDeps([[healthy('web'), container('db', 'dead', 'Dead')]])
    const result = await waitHealthy(plan(), deps, update)
    expect(result.ok).toBe(false)
    expect(calls.polls).toBe(1)
  })

  it('fails at once on a restarting (crash-looping) container', async () => {
    const { deps, calls, elapsed } = fakeDeps([[container('web', 'restarting', 'Restarting (1) 2 seconds ago'), healthy('db')]])
    const result = await waitHealthy(plan(), deps, update)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.failure.check).toBe('service web')
    expect(result.failure.lastError).toContain('restarting')
    expect(calls.polls).toBe(1)
    expect(elapsed()).toBe(0)
  })

  it('a one-off service that exited 0 is ready', async () => {
    const { deps, calls } = fakeDeps([
      [container('migrate', 'running', 'Up 1 second'), healthy('web')],
      [exited('migrate', 0), healthy('web')],
    ])
    const result = await waitHealthy(plan({ services: ['migrate', 'web'], oneOff: new Set(['migrate']) }), deps, update)
    expect(result).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2) // running was not enough for a one-off service
  })

  it('a one-off service that exited 1 fails at once', async () => {
    const { deps, calls } = fakeDeps([[exited('migrate', 1), healthy('web')]])
    const result = await waitHealthy(plan({ services: ['migrate', 'web'], oneOff: new Set(['migrate']) }), deps, update)
    expect(result).toEqual({
      ok: false,
      failure: { check: 'service migrate', lastError: 'shop-staging-migrate-1 exited: Exited (1) 1 second ago', services: ['migrate'] },
    })
    expect(calls.polls).toBe(1)
  })

  it('times out naming the pending service and its last reason; sleeps follow the interval', async () => {
    const { deps, calls, elapsed } = fakeDeps([[starting('web'), healthy('db')]])
    const result = await waitHealthy(plan({ timeoutMs: 10_000, intervalMs: 2_000 }), deps, update)
    expect(result).toEqual({
      ok: false,
      failure: { check: 'service web', lastError: 'not ready after 10s: shop-staging-web-1 health: starting', services: ['web'] },
    })
    expect(calls.sleeps).toEqual([2_000, 2_000, 2_000, 2_000, 2_000])
    expect(calls.polls).toBe(6)
    expect(elapsed()).toBe(10_000)
  })

  it('uses the configured interval', async () => {
    const { deps, calls } = fakeDeps([[starting('web'), healthy('db')]])
    await waitHealthy(plan({ timeoutMs: 3_000, intervalMs: 500 }), deps, update)
    expect(calls.sleeps).toHaveLength(6)
    expect(new Set(calls.sleeps)).toEqual(new Set([500]))
  })

  it('reads container states every pollMs and sends probes every interval', async () => {
    const { deps, calls, elapsed } = fakeDeps([[starting('web'), healthy('db')], [starting('web'), healthy('db')], [healthy('web'), healthy('db')]], {
      'http://x/health': [{ ok: false, detail: 'HTTP 503' }, { ok: true, detail: '' }],
    })
    const probes: HttpProbe[] = [{ url: 'http://x/health' }]
    const result = await waitHealthy(plan({ timeoutMs: 10_000, intervalMs: 1_000, pollMs: 250, probes }), deps, update)
    expect(result.ok).toBe(true)
    expect(calls.sleeps).toEqual([250, 250, 1_000])
    expect(elapsed()).toBe(1_500)
  })

  it('times out on the poll cadence too, never sleeping past the deadline', async () => {
    const { deps, calls, elapsed } = fakeDeps([[starting('web'), healthy('db')]])
    const result = await waitHealthy(plan({ timeoutMs: 1_000, intervalMs: 1_000, pollMs: 250 }), deps, update)
    expect(result.ok).toBe(false)
    expect(calls.sleeps).toEqual([250, 250, 250, 250])
    expect(elapsed()).toBe(1_000)
  })

  it('reports every pending service on timeout', async () => {
    const { deps } = fakeDeps([[starting('web')]])
    const result = await waitHealthy(plan({ timeoutMs: 4_000 }), deps, update)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.failure.services).toEqual(['web', 'db'])
    expect(result.failure.lastError).toContain('health: starting')
  })

  it('tells progress what it is waiting for', async () => {
    updates.length = 0
    const { deps } = fakeDeps([[starting('web'), healthy('db')], [healthy('web'), healthy('db')]])
    await waitHealthy(plan(), deps, update)
    expect(updates[0]).toBe('waiting for web (shop-staging-web-1 health: starting)')
    expect(updates).toContain('all services ready')
  })
})

describe('waitHealthy: http probes', () => {
  const url = 'http://127.0.0.1:8080/health'
  const ready = [[healthy('web'), healthy('db')]]

  it('retries a probe every interval until it passes', async () => {
    const { deps, calls } = fakeDeps(ready, {
      [url]: [{ ok: false, detail: 'ECONNREFUSED' }, { ok: false, detail: 'HTTP 502 (expected 2xx): bad gateway' }, { ok: true, detail: 'HTTP 200' }],
    })
    expect(await waitHealthy(plan({ probes: [{ url }] }), deps, update)).toMatchObject({ ok: true })
    expect(calls.probes).toEqual([url, url, url])
    expect(calls.sleeps).toEqual([2_000, 2_000])
  })

  it('probes only after every service is ready', async () => {
    const { deps, calls } = fakeDeps([[starting('web'), healthy('db')], ready[0] as Container[]], { [url]: [{ ok: true, detail: 'HTTP 200' }] })
    expect(await waitHealthy(plan({ probes: [{ url }] }), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2)
    expect(calls.probes).toEqual([url])
  })

  it('checks every probe in turn', async () => {
    const other = 'http://127.0.0.1:9000/ready'
    const { deps, calls } = fakeDeps(ready, { [url]: [{ ok: true, detail: 'HTTP 200' }], [other]: [{ ok: true, detail: 'HTTP 204' }] })
    expect(await waitHealthy(plan({ probes: [{ url }, { url: other }] }), deps, update)).toMatchObject({ ok: true })
    expect(calls.probes).toEqual([url, other])
  })

  it('fails past the deadline naming the probe URL and its last error', async () => {
    const { deps, calls, elapsed } = fakeDeps([[healthy('web'), healthy('db'), exited('migrate', 0)]], {
      [url]: [{ ok: false, detail: 'ECONNREFUSED' }, { ok: false, detail: 'HTTP 500 (expected 200): boom' }],
    })
    const services = ['web', 'db', 'migrate']
    const result = await waitHealthy(plan({ services, probes: [{ url, status: 200 }], timeoutMs: 6_000, oneOff: new Set(['migrate']) }), deps, update)
    // The logs worth showing are the long-running services', not the finished migration's.
    expect(result).toEqual({
      ok: false,
      failure: { check: `http ${url}`, lastError: 'HTTP 500 (expected 200): boom', services: ['web', 'db'] },
    })
    expect(calls.probes).toHaveLength(4)
    expect(elapsed()).toBe(6_000)
  })

  it('the probes share the services deadline', async () => {
    const { deps, calls } = fakeDeps(
      [[starting('web'), healthy('db')], [starting('web'), healthy('db')], [healthy('web'), healthy('db')]],
      { [url]: [{ ok: false, detail: 'ECONNREFUSED' }] },
    )
    const result = await waitHealthy(plan({ probes: [{ url }], timeoutMs: 8_000 }), deps, update)
    expect(result.ok).toBe(false)
    expect(calls.sleeps.reduce((a, b) => a + b, 0)).toBe(8_000)
    expect(calls.probes).toHaveLength(3)
  })
})

describe('waitHealthy: on the event stream', () => {
  /** A stream the test drives: `change()` is an event of the project, `drop()` ends it. */
  function stream() {
    let onChange: (() => void) | undefined
    let end: (() => void) | undefined
    const state = { started: 0, stopped: 0 }
    const changes = (notify: () => void) => {
      state.started++
      onChange = notify
      return { ended: new Promise<void>((resolve) => (end = resolve)), stop: () => state.stopped++ }
    }
    return { changes, change: () => onChange?.(), drop: () => end?.(), state }
  }

  it('waits on the stream, not the poll: each event reads the states again, the safety poll is the fallback', async () => {
    const s = stream()
    const { deps, calls } = fakeDeps([[starting('web'), starting('db')], [healthy('web'), starting('db')], [healthy('web'), healthy('db')]])
    // A sleep that an event cuts short: it only resolves when aborted, so only events move the wait on.
    const waits: number[] = []
    deps.sleep = (ms, signal) =>
      new Promise<void>((resolve) => {
        waits.push(ms)
        signal?.addEventListener('abort', () => resolve())
      })
    deps.changes = s.changes
    const updates: string[] = []
    const result = waitHealthy(plan({ pollMs: 250 }), deps, (m) => updates.push(m))
    await new Promise((r) => setTimeout(r, 10))
    expect(calls.polls).toBe(1)
    s.change()
    await new Promise((r) => setTimeout(r, 10))
    expect(calls.polls).toBe(2)
    s.change()
    expect(await result).toMatchObject({ ok: true })
    expect(calls.polls).toBe(3)
    expect(waits).toEqual([SAFETY_POLL_MS, SAFETY_POLL_MS])
    expect(s.state).toEqual({ started: 1, stopped: 1 })
  })

  it('reads again after the safety poll when no event comes', async () => {
    const s = stream()
    const { deps, calls } = fakeDeps([[starting('web'), healthy('db')], [healthy('web'), healthy('db')]])
    deps.changes = s.changes
    expect(await waitHealthy(plan({ pollMs: 250 }), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2)
    expect(calls.sleeps).toEqual([SAFETY_POLL_MS])
  })

  it('an event that came while the states were read is not lost: the next read follows at once', async () => {
    const s = stream()
    const { deps, calls } = fakeDeps([[starting('web'), healthy('db')], [healthy('web'), healthy('db')]])
    const inner = deps.containers
    deps.containers = async () => {
      const list = await inner()
      s.change() // during the read
      return list
    }
    deps.changes = s.changes
    expect(await waitHealthy(plan(), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(2)
    expect(calls.sleeps).toEqual([])
  })

  it('a dropped stream hands over to the plan\'s poll', async () => {
    const s = stream()
    s.drop()
    const { deps, calls } = fakeDeps([[starting('web'), healthy('db')], [starting('web'), healthy('db')], [healthy('web'), healthy('db')]])
    deps.changes = (notify) => {
      const made = s.changes(notify)
      s.drop()
      return made
    }
    expect(await waitHealthy(plan({ pollMs: 250 }), deps, update)).toMatchObject({ ok: true })
    expect(calls.polls).toBe(3)
    expect(calls.sleeps).toEqual([250, 250])
  })

  it('on the stream, times out at the deadline itself', async () => {
    const s = stream()
    const { deps, elapsed } = fakeDeps([[starting('web'), healthy('db')]])
    deps.changes = s.changes
    const result = await waitHealthy(plan({ timeoutMs: 2_500 }), deps, update)
    expect(result).toMatchObject({ ok: false, failure: { check: 'service web', lastError: 'not ready after 2.5s: shop-staging-web-1 health: starting' } })
    expect(elapsed()).toBe(2_500)
  })
})

describe('serviceVerdict', () => {
  it('waits for a one-off service still running', () => {
    expect(serviceVerdict('migrate', [running('migrate')], true)).toEqual({ kind: 'waiting', why: 'shop-staging-migrate-1 is running, waiting for it to finish' })
  })

  it('fails when any replica is unhealthy', () => {
    expect(serviceVerdict('web', [healthy('web'), { ...unhealthy('web'), name: 'shop-staging-web-2' }], false)).toEqual({
      kind: 'failed',
      why: 'shop-staging-web-2 is unhealthy',
    })
  })

  it('ignores other services containers', () => {
    expect(serviceVerdict('web', [exited('db', 1)], false)).toEqual({ kind: 'waiting', why: 'no container yet' })
  })
})
