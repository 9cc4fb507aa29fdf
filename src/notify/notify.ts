import { hostname } from 'node:os'

import { interpolate } from '../config/envFile.js'
import type { EnvironmentConfig, RunResult } from '../config/types.js'
import type { Env } from '../health/gate.js'
import type { Deps } from '../run/context.js'
import type { RunOutcome } from '../run/lockedRun.js'
import { mask } from '../secrets.js'
import { DELIVERY_POLICY, type DeliveryPolicy, postWebhooks } from './webhooks.js'

/** SPEC §11: the JSON every webhook receives. `release` and `previous` are null when there is none. */
export interface Notification {
  action: 'deploy' | 'rollback'
  app: string
  env: string
  release: string | null
  previous: string | null
  result: RunResult
  /** Milliseconds, from the start of the locked run to its end. */
  duration: number
  /** user@host of the operator. */
  who: string
  /** Where the environment runs: this machine's name, the SSH host, or the Docker context. */
  host: string
  /** What went wrong (masked, at most 1000 characters), when the result is not ok. */
  reason?: string
}

/**
 * The end of a deploy or rollback, told to the environment's webhooks whose `on:` lists its result. It never
 * throws and never changes the exit code: an endpoint that cannot be reached is a warning, masked (the URL
 * is a secret; an endpoint may echo it in its error).
 */
export async function notify(deps: Deps, e: Env, outcome: RunOutcome, policy: DeliveryPolicy = DELIVERY_POLICY): Promise<void> {
  if (outcome.action !== 'deploy' && outcome.action !== 'rollback') return
  const hooks = e.env.notify.map((hook, i) => ({ ...hook, n: i + 1 })).filter((hook) => hook.on.includes(outcome.result))
  if (hooks.length === 0) return
  const notification: Notification = {
    action: outcome.action,
    app: e.config.app,
    env: e.env.name,
    release: outcome.tag ?? null,
    previous: outcome.from ?? null,
    result: outcome.result,
    duration: outcome.durationMs,
    who: outcome.by,
    host: engineHost(e.env),
    ...(outcome.reason === undefined ? {} : { reason: clip(mask(outcome.reason)) }),
  }
  const label = (n: number) => `webhook #${n} of ${e.env.name}`
  try {
    // Already checked to fill in when the env file was read (readEnvFile), and registered as secrets there.
    const urls = hooks.map((hook) => interpolate(hook.url, e.vars))
    deps.reporter.info(`notifying ${hooks.length === 1 ? label(hooks[0]?.n ?? 1) : `${hooks.length} webhooks of ${e.env.name}`}: ${outcome.result}`)
    const deliveries = await postWebhooks(urls, JSON.stringify(notification), policy)
    deliveries.forEach((delivery, i) => {
      if (delivery.ok) return
      const tries = delivery.attempts === 1 ? '1 try' : `${delivery.attempts} tries`
      deps.reporter.warn(mask(`${label(hooks[i]?.n ?? i + 1)} was not delivered after ${tries} (${delivery.detail}); the ${outcome.action} itself is unaffected`))
    })
  } catch (error) {
    deps.reporter.warn(mask(`the webhooks of ${e.env.name} were not sent (${error instanceof Error ? error.message : String(error)}); the ${outcome.action} itself is unaffected`))
  }
}

/** `host` of the notification: where the environment's engine is (SPEC §10). */
export function engineHost(env: EnvironmentConfig): string {
  const { location } = env
  if (location.kind === 'ssh') return location.host
  if (location.kind === 'context') return `context ${location.name}`
  return hostname()
}

/** A chat message, not a log: docker's error text can run to twenty lines. */
const REASON_MAX = 1000

function clip(text: string): string {
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX - 1)}…` : text
}
