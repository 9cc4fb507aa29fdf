import type { Config, EnvironmentConfig, RunResult } from '../config/types.js'
import { BerthError, ExitCode } from '../errors.js'
import { mask } from '../secrets.js'
import { ConnectionLostError } from '../target/ssh/connection.js'
import { type AuditEntry, appendAudit } from '../state/audit.js'
import { type Deps, operator } from './context.js'
import { onInterrupt } from './interrupt.js'
import { acquireLock, LEASE_MS } from '../state/lock.js'

/** What a locked run has done so far, kept current by its body: what audit and interruption report. */
export interface RunProgress {
  tag?: string
  from?: string
  /** What else the audit line says of the run, whatever its outcome (maintenance: on or off, the page's message). */
  audit?: Pick<AuditEntry, 'maintenance' | 'pageMessage' | 'hooks'>
  /** Records what an interruption leaves behind and returns the sentence telling the operator. */
  onInterrupt?: (signal: NodeJS.Signals) => Promise<string>
  /** Set while the run ends a phase of its own on a signal (a deploy's watch): true when it took the signal. */
  intercept?: (signal: NodeJS.Signals) => boolean
}

export interface LockedRun {
  config: Config
  env: EnvironmentConfig
  action: AuditEntry['action']
  command: string
  deps: Deps
  /** Told how the run ended, once its lock is released (webhooks, SPEC §11); it must not throw. */
  ended?: (outcome: RunOutcome) => Promise<void>
}

/** How a locked run ended, as the audit line and the exit code say it. */
export interface RunOutcome {
  action: AuditEntry['action']
  result: RunResult
  /** The release applied, and the one it replaced, when the run got that far. */
  tag?: string
  from?: string
  by: string
  startedAt: string
  durationMs: number
  /** What went wrong (masked), unless ok. */
  reason?: string
}

/** SPEC §4: rolled-back is exit 3, needs-person exit 4, and any other failure (interrupted, exit 1, 2, 6) failed. */
export function resultOf(error: unknown): RunResult {
  const exit = error instanceof BerthError ? error.exitCode : ExitCode.unexpected
  return exit === ExitCode.rolledBack ? 'rolled-back' : exit === ExitCode.rollbackFailed ? 'needs-person' : 'failed'
}

/**
 * The frame of every run that changes an environment: hold its lock for the whole run (SPEC §7), write one
 * audit line whatever the outcome (SPEC §8), and on SIGINT/SIGTERM/SIGHUP record what was left, release
 * the lock and tell the operator what state the environment is in.
 */
export async function lockedRun<T>(run: LockedRun, body: (progress: RunProgress) => Promise<T>): Promise<T> {
  const { env, deps } = run
  const started = deps.now()
  const by = operator()
  const { runs, state } = deps.target
  const unlock = await acquireLock(state, env.name, { pid: runs.pid, host: runs.hostname, by, command: run.command, startedAt: started.toISOString() }, deps.reporter, runs)
  const progress: RunProgress = {}
  const audit = (result: string, message?: string) =>
    appendAudit(deps.target.state, env.name, {
      action: run.action,
      by,
      at: started.toISOString(),
      ...(progress.tag ? { tag: progress.tag } : {}),
      ...(progress.from ? { from: progress.from } : {}),
      ...progress.audit,
      result,
      durationMs: deps.now().getTime() - started.getTime(),
      ...(message ? { message } : {}),
    })
  const outcome = (result: RunResult, reason?: string): RunOutcome => ({
    action: run.action,
    result,
    ...(progress.tag ? { tag: progress.tag } : {}),
    ...(progress.from ? { from: progress.from } : {}),
    by,
    startedAt: started.toISOString(),
    durationMs: deps.now().getTime() - started.getTime(),
    ...(reason === undefined ? {} : { reason: mask(reason) }),
  })
  let ended: RunOutcome | undefined
  // Once a signal is being handled, its cleanup tells how the run ended (the body may fail meanwhile: not twice).
  let interrupted = false
  const stopListening = onInterrupt(async (signal) => {
    interrupted = true
    const left = progress.onInterrupt ? await progress.onInterrupt(signal) : 'nothing was changed'
    await audit('INTERRUPTED', signal)
    await unlock()
    deps.reporter.warn(`${run.action} of ${env.name} interrupted by ${signal}: ${left}; the lock is released. Check with: berth status ${env.name}`)
    await run.ended?.(outcome('failed', `interrupted by ${signal}: ${left}`))
  }, (signal) => progress.intercept?.(signal) ?? false)
  const unrecorded = (what: string) => (error: unknown) =>
    deps.reporter.warn(`${what} on ${deps.target.description} failed (${error instanceof Error ? error.message : String(error)})`)
  try {
    const result = await body(progress)
    await audit('ok')
    ended = outcome('ok')
    return result
  } catch (error) {
    const shown = error instanceof ConnectionLostError ? await connectionLost(error, run, progress) : error
    // The run's own error is what the operator must see, even when the host cannot take the audit line.
    await audit(error instanceof BerthError ? error.code : 'UNEXPECTED', error instanceof Error ? error.message : String(error)).catch(unrecorded('writing the audit line'))
    ended = outcome(resultOf(shown), shown instanceof Error ? shown.message : String(shown))
    throw shown
  } finally {
    stopListening()
    await unlock().catch((error: unknown) => {
      unrecorded(`releasing the lock of ${env.name}`)(error)
      deps.reporter.warn(`the lock of ${env.name} is left; it is taken over once it has gone ${LEASE_MS / 1000}s without renewal (berth status ${env.name} shows it)`)
    })
    // Told after the lock is released: a slow webhook never holds the environment.
    if (ended && !interrupted) await run.ended?.(ended)
  }
}

/**
 * SPEC §10: a connection dropped mid-run is handled as a hang-up is (SPEC §7): nothing more is applied,
 * what the run left is recorded through a new connection when one can be made, and the operator is told
 * what state the environment is in.
 */
async function connectionLost(error: ConnectionLostError, run: LockedRun, progress: RunProgress): Promise<ConnectionLostError> {
  const left = progress.onInterrupt ? await progress.onInterrupt('SIGHUP').catch((e: unknown) => `what it left could not be recorded (${e instanceof Error ? e.message : String(e)})`) : 'nothing was changed'
  return new ConnectionLostError(error.url, error.why, `during the ${run.action} of ${run.env.name}: ${left}. Check with: berth status ${run.env.name}`)
}
