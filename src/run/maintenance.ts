import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { messageProblem } from '../edge/maintenance.js'
import { PreflightError, UsageError } from '../errors.js'
import { type MaintenanceChange, strategyOf } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import type { Deps } from './context.js'
import { lockedRun } from './lockedRun.js'
import { refuseDamagedState } from './stateCheck.js'

export interface MaintenanceRequest {
  config: Config
  envName: string
  on: boolean
  /** The page's text (with `on` only). */
  message?: string
  /** The command line, recorded in the lock. */
  command: string
}

export interface MaintenanceResult {
  environment: string
  maintenance: 'on' | 'off'
  /** False when it already was so (the same page, or off). */
  changed: boolean
  since?: string
  message?: string
  /** Ids of the environment's routes on the edge that answer the page, and of those rewritten first (one reload). */
  routes: string[]
  rewrittenRoutes: string[]
  durationMs: number
}

/**
 * SPEC §4/§9 `maintenance ENV on|off`: refuses before anything changes (exit 2) a strategy without it, an
 * environment with no routes on the edge, a message that cannot be a page; then, as a locked, audited run,
 * has the strategy put the page in place or take it away.
 */
export async function maintenance(req: MaintenanceRequest, deps: Deps): Promise<MaintenanceResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  const change = changeOf(req, started.toISOString())
  const strategy = strategyOf(env)
  const toggle = strategy.maintenance
  if (!toggle) {
    throw new PreflightError(
      `${env.name} uses ${strategy.name}: maintenance pages are for blue-green environments, whose routes the edge answers`,
      `berth answers no route of a ${strategy.name} environment (its services publish their ports themselves), so it has nowhere to show a page. Nothing was changed.`,
      'MAINTENANCE_UNSUPPORTED',
    )
  }
  await checkEngine(deps)
  await refuseDamagedState(deps, req.config, env, strategy)
  await toggle.check(deps, req.config, env, change)
  const state = change.on ? 'on' : 'off'
  return lockedRun({ config: req.config, env, action: 'maintenance', command: req.command, deps }, async (progress) => {
    progress.audit = { maintenance: state, ...(change.on && change.message !== undefined ? { pageMessage: change.message } : {}) }
    progress.onInterrupt = async () => `the maintenance page of ${env.name} may or may not be in place: run berth maintenance ${env.name} ${state} again`
    const applied = await deps.reporter.step(`turn maintenance of ${env.name} ${state} on ${deps.target.description}`, () => toggle.set(deps, req.config, env, change))
    return {
      environment: env.name,
      maintenance: state,
      changed: applied.changed,
      ...(applied.since ? { since: applied.since } : {}),
      ...(applied.message !== undefined ? { message: applied.message } : {}),
      routes: applied.routes,
      rewrittenRoutes: applied.rewritten,
      durationMs: deps.now().getTime() - started.getTime(),
    }
  })
}

function changeOf(req: MaintenanceRequest, at: string): MaintenanceChange {
  if (!req.on) {
    if (req.message !== undefined) throw new UsageError('--message goes with on: there is no page while maintenance is off', `Run: berth maintenance ${req.envName} on --message TEXT`)
    return { on: false }
  }
  if (req.message === undefined) return { on: true, at }
  const problem = messageProblem(req.message)
  if (problem) throw new UsageError(problem, 'Give the text of the page in one --message (newlines are kept as line breaks). Nothing was changed.')
  return { on: true, at, message: req.message }
}
