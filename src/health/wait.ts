import type { HttpProbe } from '../config/types.js'
import type { Container } from '../docker/parse.js'

/**
 * SPEC §6, after compose's own `up --wait` rules: a service with a healthcheck must be healthy, one
 * without must be running, a one-off service must exit 0. Exited or unhealthy fails at once; everything
 * else is retried every interval until the timeout. Then every HTTP probe must answer.
 */

export interface ProbeResult {
  ok: boolean
  /** Why it failed: the status and body excerpt, or the connection error. */
  detail: string
}

export interface HealthDeps {
  /** The environment's containers now (one query per poll). */
  containers(): Promise<Container[]>
  /**
   * The engine's events of the environment's containers: `onChange` at each one, from now until `stop()`;
   * `ended` settles when the stream ends (stopped, dropped, or none to be had). Without it, states are polled.
   */
  changes?(onChange: () => void): ChangeStream
  probe(probe: HttpProbe): Promise<ProbeResult>
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  now(): number
}

export interface ChangeStream {
  ended: Promise<unknown>
  stop(): void
}

/**
 * While the event stream runs, states are still read this often: the safety net for an event the stream
 * lost without ending. A stream that ends hands over to the plan's poll.
 */
export const SAFETY_POLL_MS = 1_000

export interface HealthPlan {
  services: string[]
  oneOff: ReadonlySet<string>
  /** Probes with their URLs already interpolated. */
  probes: HttpProbe[]
  timeoutMs: number
  /** Between two HTTP probes (health.interval). */
  intervalMs: number
  /**
   * Between two reads of the containers' states (default intervalMs). A read is one cheap `docker ps`, and
   * the engine changes a state only when its own healthcheck runs, so reading more often than the probe
   * interval just notices a ready service sooner: compose's own `up --wait` reads every 500 ms.
   */
  pollMs?: number
}

export interface HealthFailure {
  /** What failed: `service web`, `http http://127.0.0.1:8080/health`. */
  check: string
  lastError: string
  /** Services whose logs explain the failure. */
  services: string[]
}

/** On success, the containers as last seen ready: the caller records their config hashes without asking again. */
export type HealthResult = { ok: true; containers: Container[] } | { ok: false; failure: HealthFailure }

type Verdict = { kind: 'ready' } | { kind: 'waiting'; why: string } | { kind: 'failed'; why: string }

export function serviceVerdict(service: string, containers: readonly Container[], oneOff: boolean): Verdict {
  const own = containers.filter((c) => c.service === service)
  if (own.length === 0) return { kind: 'waiting', why: 'no container yet' }
  for (const c of own) {
    const exited = c.state === 'exited' || c.state === 'dead'
    if (oneOff) {
      if (exited) {
        if (/^Exited \(0\)/.test(c.status)) continue
        return { kind: 'failed', why: `${c.name} exited: ${c.status}` }
      }
      return { kind: 'waiting', why: `${c.name} is ${c.state}, waiting for it to finish` }
    }
    if (exited) return { kind: 'failed', why: `${c.name} exited: ${c.status}` }
    if (c.state === 'restarting') return { kind: 'failed', why: `${c.name} is restarting (it crashed): ${c.status}` }
    if (c.health === 'unhealthy') return { kind: 'failed', why: `${c.name} is unhealthy` }
    if (c.state !== 'running') return { kind: 'waiting', why: `${c.name} is ${c.state}` }
    if (c.health === 'starting') return { kind: 'waiting', why: `${c.name} health: starting` }
  }
  return { kind: 'ready' }
}

export async function waitHealthy(plan: HealthPlan, deps: HealthDeps, update: (message: string) => void): Promise<HealthResult> {
  const deadline = deps.now() + plan.timeoutMs
  const watch = watchChanges(deps)
  try {
    const states = await waitForStates(plan, deps, update, deadline, watch)
    if (!states.ok) return states
    return await probeAll(plan, deps, update, deadline, states.containers)
  } finally {
    watch?.stop()
  }
}

/** The event stream with what the wait needs of it: whether it still runs, and a wait for the next change. */
interface Watch {
  streaming(): boolean
  /** Resolves at the next change since the last `take()` (at once if there was one), or after `ms`. */
  next(ms: number): Promise<void>
  /** Forgets the changes seen so far: the read that follows sees them. */
  take(): void
  stop(): void
}

function watchChanges(deps: HealthDeps): Watch | undefined {
  if (!deps.changes) return undefined
  let changed = false
  let live = true
  let wake: (() => void) | undefined
  const stream = deps.changes(() => {
    changed = true
    wake?.()
  })
  void stream.ended.then(
    () => {
      live = false
      wake?.()
    },
    () => {
      live = false
      wake?.()
    },
  )
  return {
    streaming: () => live,
    take: () => {
      changed = false
    },
    async next(ms) {
      if (changed || !live) return
      const timer = new AbortController()
      await Promise.race([deps.sleep(ms, timer.signal), new Promise<void>((resolve) => (wake = resolve))])
      wake = undefined
      timer.abort()
    },
    stop: () => stream.stop(),
  }
}

async function waitForStates(
  plan: HealthPlan,
  deps: HealthDeps,
  update: (message: string) => void,
  deadline: number,
  watch: Watch | undefined,
): Promise<HealthResult> {
  const pollMs = plan.pollMs ?? plan.intervalMs
  let pending = [...plan.services]
  let lastWhy = new Map<string, string>()
  for (;;) {
    watch?.take()
    const containers = await deps.containers()
    const nextPending: string[] = []
    lastWhy = new Map()
    for (const service of pending) {
      const verdict = serviceVerdict(service, containers, plan.oneOff.has(service))
      if (verdict.kind === 'failed') return { ok: false, failure: { check: `service ${service}`, lastError: verdict.why, services: [service] } }
      if (verdict.kind === 'waiting') {
        nextPending.push(service)
        lastWhy.set(service, verdict.why)
      }
    }
    pending = nextPending
    if (pending.length === 0) {
      update('all services ready')
      return { ok: true, containers }
    }
    update(`waiting for ${pending.map((s) => `${s} (${lastWhy.get(s)})`).join(', ')}`)
    // On events: read again at each change, or after the safety poll, up to the deadline itself.
    const onEvents = watch?.streaming() === true
    const left = deadline - deps.now()
    if (onEvents ? left <= 0 : deps.now() + pollMs > deadline) {
      const service = pending[0] as string
      return {
        ok: false,
        failure: { check: `service ${service}`, lastError: `not ready after ${plan.timeoutMs / 1000}s: ${lastWhy.get(service)}`, services: pending },
      }
    }
    if (onEvents) await watch!.next(Math.min(SAFETY_POLL_MS, left))
    else await deps.sleep(pollMs)
  }
}

async function probeAll(plan: HealthPlan, deps: HealthDeps, update: (message: string) => void, deadline: number, containers: Container[]): Promise<HealthResult> {
  for (const probe of plan.probes) {
    for (;;) {
      const result = await deps.probe(probe)
      if (result.ok) {
        update(`${probe.url} answered`)
        break
      }
      update(`${probe.url}: ${result.detail}`)
      if (deps.now() + plan.intervalMs > deadline) {
        return { ok: false, failure: { check: `http ${probe.url}`, lastError: result.detail, services: plan.services.filter((s) => !plan.oneOff.has(s)) } }
      }
      await deps.sleep(plan.intervalMs)
    }
  }
  return { ok: true, containers }
}
