import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { PreflightError } from '../errors.js'
import { findActive, readReleases, setStatus, writeReleases } from '../state/releases.js'
import { strategyOf } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import { type Deps, projectContainers } from './context.js'
import { lockedRun } from './lockedRun.js'
import { registerEnvSecrets, runningProject } from './output.js'
import { refuseDamagedState } from './stateCheck.js'

export interface DownRequest {
  config: Config
  envName: string
  volumes: boolean
  /** Asked before anything changes when the environment has `confirm: true`. */
  confirm: (question: string) => Promise<boolean>
  /** The command line, recorded in the lock. */
  command: string
}

export interface DownResult {
  environment: string
  project: string
  /** The release that was running, now recorded as the previous one. */
  release?: string
  /** Names of the containers removed. */
  containers: string[]
  volumes: boolean
  durationMs: number
}

/**
 * SPEC §4 down: `compose down` of this environment's project only, as a locked, audited run. The active release
 * stops being active and, as the newest once-active release, becomes `previous`: `status` shows nothing
 * deployed, `berth rollback ENV` brings it back, and a later deploy has nothing to roll back to but
 * itself. Named volumes are kept unless --volumes.
 */
export async function down(req: DownRequest, deps: Deps): Promise<DownResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  await checkEngine(deps)
  await registerEnvSecrets(env)
  const strategy = strategyOf(env)
  await refuseDamagedState(deps, req.config, env, strategy)
  const running = findActive(await readReleases(deps.target.state, env.name))
  const what = `${env.project}${running ? ` (release ${running.tag})` : ''}`
  if (env.confirm && !(await req.confirm(`Stop and remove ${what}${req.volumes ? ' and delete its volumes' : ''}?`))) {
    throw new PreflightError(`down of ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  return lockedRun({ config: req.config, env, action: 'down', command: req.command, deps }, async (progress) => {
    // Read again under the lock: a deploy may have finished since the question was asked.
    const releases = await readReleases(deps.target.state, env.name)
    const { target, active } = await runningProject(deps, env, releases)
    if (active) progress.tag = active.tag
    progress.onInterrupt = async () =>
      `${env.project} may be partly stopped${active ? ` and the records still name ${active.tag} as active` : ''}: run berth down ${env.name} again`
    const containers = (await projectContainers(deps, env.project)).map((c) => c.name).sort()
    await deps.reporter.step(`stop and remove ${env.project}${req.volumes ? ' with its volumes' : ''} on ${deps.target.description}`, () =>
      strategy.down(deps, { config: req.config, env, target: deps.target, vars: {} }, target, req.volumes),
    )
    if (active) await writeReleases(deps.target.state, env.name, setStatus(releases, active.tag, 'superseded'))
    const durationMs = deps.now().getTime() - started.getTime()
    return { environment: env.name, project: env.project, ...(active ? { release: active.tag } : {}), containers, volumes: req.volumes, durationMs }
  })
}
