import { hostname } from 'node:os'

import type { Hook, HookName } from '../config/types.js'
import { NeedsPersonError, PreflightError, RolledBackError } from '../errors.js'
import type { Env } from '../health/gate.js'
import type { Deps } from '../run/context.js'
import type { RunProgress } from '../run/lockedRun.js'
import { mask } from '../secrets.js'
import type { HookRecord } from '../state/audit.js'
import { engineHost, type HookFacts, hookEnvironment, type HookResult, unsetPassed } from './environment.js'
import { type HookExit, runHookProcess } from './process.js'

/** Lines of a failed hook's output shown with the failure (and kept for it). */
const LAST_LINES = 10

/** What a run says of itself to its hooks; the rest of the facts come from the environment. */
export interface RunFacts {
  release: string
  previous?: string | undefined
}

/** The hooks of one locked run (SPEC §11), each a no-op when deploy.yml names none. */
export interface RunHooks {
  /** The hooks that ran so far and how each ended (--json shows them with the result). */
  readonly records: readonly HookRecord[]
  /** pre_deploy / pre_rollback: a failure refuses the run (exit 2, HOOK_FAILED); call it before anything changes. */
  before(facts: RunFacts): Promise<void>
  /** post_deploy / post_rollback: a failure is reported and audited; the run's outcome stays. */
  after(facts: RunFacts): Promise<void>
  /** on_failure: after the run failed (and rolled back, when it did), with how and why; never changes the error. */
  failed(error: unknown, facts: RunFacts): Promise<void>
}

/**
 * The hooks of a deploy or rollback of `e`. Every hook that runs is recorded on the run's audit line
 * (`hooks: [{ hook, result }]`, through `progress`), so a failed post_ hook is audited with the release it
 * followed.
 */
export function runHooks(deps: Deps, e: Env, action: 'deploy' | 'rollback', progress: RunProgress): RunHooks {
  const records: HookRecord[] = []
  const run = async (name: HookName, facts: RunFacts, result: HookResult, reason?: string): Promise<Outcome | undefined> => {
    const hook = e.env.hooks[name]
    if (!hook) return undefined
    if (records.length === 0) progress.audit = { ...progress.audit, hooks: records }
    const all: HookFacts = {
      app: e.config.app,
      env: e.env.name,
      action,
      release: facts.release,
      previous: facts.previous ?? '',
      result,
      ...(reason !== undefined ? { reason } : {}),
      host: engineHost(e.env.location, hostname()),
    }
    const outcome = await runHook(deps, e, hook, all)
    records.push({ hook: name, result: outcome.summary, durationMs: Math.round(outcome.exit.durationMs) })
    return outcome
  }
  return {
    records,
    async before(facts) {
      const outcome = await run(action === 'deploy' ? 'pre_deploy' : 'pre_rollback', facts, 'pending')
      if (!outcome || outcome.ok) return
      throw new PreflightError(
        `${outcome.hook.name} hook ${outcome.summary}, so the ${action} of ${e.env.name} was refused; nothing was changed${lastLines(outcome)}`,
        `Fix what the hook checks (or the hook in ${e.config.file}), then run the ${action} again. Try it alone: cd ${e.config.dir} && sh -c ${JSON.stringify(outcome.hook.run)}`,
        'HOOK_FAILED',
      )
    },
    async after(facts) {
      // The run succeeded: nothing about its hook may turn that into a failure.
      const outcome = await run(action === 'deploy' ? 'post_deploy' : 'post_rollback', facts, 'ok').catch((hookError: unknown) => {
        deps.reporter.warn(`${action === 'deploy' ? 'post_deploy' : 'post_rollback'} hook could not run: ${hookError instanceof Error ? hookError.message : String(hookError)}`)
        return undefined
      })
      if (!outcome || outcome.ok) return
      deps.reporter.warn(`${outcome.hook.name} hook ${outcome.summary}; the ${action} of ${e.env.name} to ${facts.release} stands (nothing was undone), and the failure is in its audit line${lastLines(outcome)}`)
    },
    async failed(error, facts) {
      const outcome = await run('on_failure', facts, resultOf(error), reasonOf(error)).catch((hookError: unknown) => {
        deps.reporter.warn(`on_failure hook could not run: ${hookError instanceof Error ? hookError.message : String(hookError)}`)
        return undefined
      })
      if (outcome && !outcome.ok) deps.reporter.warn(`on_failure hook ${outcome.summary}${lastLines(outcome)}`)
    },
  }
}

interface Outcome {
  hook: Hook
  ok: boolean
  /** ok, exit N, timed out after Ns, killed by SIGNAL. */
  summary: string
  exit: HookExit
  lastLines: string[]
}

/** Runs one hook as a progress step, its output streamed into the step line by line, masked. */
async function runHook(deps: Deps, e: Env, hook: Hook, facts: HookFacts): Promise<Outcome> {
  const missing = unsetPassed(hook, e.vars)
  if (missing.length > 0) deps.reporter.warn(`${hook.name} hook: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} listed under pass: but not set in ${e.env.envFile}`)
  const tail: string[] = []
  let outcome: Outcome | undefined
  const title = `${hook.name} hook: ${oneLine(hook.run)}`
  try {
    await deps.reporter.step(title, async (update) => {
      const exit = await runHookProcess({
        command: hook.run,
        cwd: e.config.dir,
        env: hookEnvironment(hook, facts, process.env, e.vars),
        timeoutMs: hook.timeoutMs,
        onLine: (line) => {
          const shown = mask(line)
          tail.push(shown)
          if (tail.length > LAST_LINES) tail.shift()
          update(shown)
        },
      })
      const summary = summarize(exit, hook)
      outcome = { hook, ok: summary === 'ok', summary, exit, lastLines: [...tail] }
      if (!outcome.ok) throw new Error(summary)
    })
  } catch (error) {
    if (!outcome) throw error
  }
  return outcome as Outcome
}

function summarize(exit: HookExit, hook: Hook): string {
  if (exit.timedOut) return `timed out after ${seconds(hook.timeoutMs)} and was killed with its process group`
  if (exit.exitCode === 0) return 'ok'
  if (exit.exitCode !== undefined) return `failed (exit ${exit.exitCode})`
  return `was killed by ${exit.signal ?? 'a signal'}`
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 100) / 10}s`
}

function lastLines(outcome: Outcome): string {
  if (outcome.lastLines.length === 0) return ' (it printed nothing)'
  return `. Its last lines:\n${outcome.lastLines.map((line) => `    ${line}`).join('\n')}`
}

function oneLine(command: string): string {
  const first = command.trim().split('\n')[0] ?? ''
  const short = first.length > 60 ? `${first.slice(0, 57)}...` : first
  return command.trim().includes('\n') && short === first ? `${short} ...` : short
}

/** BERTH_RESULT of on_failure: the outcome the run's error stands for (notify's words, SPEC §11). */
export function resultOf(error: unknown): HookResult {
  if (error instanceof RolledBackError) return 'rolled-back'
  if (error instanceof NeedsPersonError) return 'needs-person'
  return 'failed'
}

/** BERTH_REASON: the error's message on one line, masked and kept short (log excerpts stay in berth's own output). */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const line = mask(message.split('\n').map((part) => part.trim()).filter(Boolean).join(' '))
  return line.length > 1000 ? `${line.slice(0, 997)}...` : line
}
