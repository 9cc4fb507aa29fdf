import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { composeLogs } from '../docker/compose.js'
import { UsageError } from '../errors.js'
import { recordedModel } from '../health/gate.js'
import { resolveModel } from '../release/prepare.js'
import { readReleases } from '../state/releases.js'
import { strategyOf } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import { type Deps, projectContainers } from './context.js'
import { masked, type Output, plainLine, registerEnvSecrets, runningProject } from './output.js'

export interface LogsRequest {
  config: Config
  envName: string
  service?: string
  follow: boolean
  tail?: number
}

export interface LogsResult {
  environment: string
  project: string
  release?: string
  /** Containers the project had when the logs were read. */
  containers: number
}

/** SPEC §4 logs: `compose logs` of the running release, every line masked before it is shown. */
export async function logs(req: LogsRequest, deps: Deps, out: Output): Promise<LogsResult> {
  const env = selectEnvironment(req.config, req.envName)
  await checkEngine(deps)
  await registerEnvSecrets(env)
  const releases = await readReleases(deps.target.state, env.name)
  const { target, active, recorded } = await runningProject(deps, env, releases)
  if (req.service !== undefined) {
    const model = active && recorded ? await recordedModel({ env, target: deps.target }, active) : await resolveModel(deps, env)
    const services = Object.keys(model.services).sort()
    if (!services.includes(req.service)) {
      throw new UsageError(`${env.name} has no service ${JSON.stringify(req.service)}`, `Services of ${env.name}: ${services.join(', ')}`, 'UNKNOWN_SERVICE')
    }
  }
  const result = { environment: env.name, project: env.project, ...(active ? { release: active.tag } : {}) }
  const strategy = strategyOf(env)
  const e = { config: req.config, env, target: deps.target, vars: {} }
  if (strategy.logs) {
    const read = await strategy.logs(deps, e, { ...(req.service ? { service: req.service } : {}), ...(req.tail !== undefined ? { tail: req.tail } : {}), follow: req.follow }, masked(out, plainLine))
    if (read === 0) deps.reporter.warn(`${env.name} has no services running (${env.project} was never deployed, or was stopped with berth down)`)
    return { ...result, containers: read }
  }
  // A blue-green environment serves from its stateful project and its live colour: both are read, at once.
  const targets = await strategy.logProjects(deps, e, target, req.service)
  const containers = (await Promise.all(targets.map((t) => projectContainers(deps, t.project)))).flat()
  if (containers.length === 0) {
    deps.reporter.warn(`${env.name} has no containers (${env.project} was never deployed, or was stopped with berth down)`)
    return { ...result, containers: 0 }
  }
  const options = { ...(req.service ? { services: [req.service] } : {}), ...(req.tail !== undefined ? { tail: req.tail } : {}), follow: req.follow }
  // SPEC §8: plain lines without escape codes; the container's own colours go too (compose's --no-color only drops its own).
  await Promise.all(targets.map((t) => deps.run(composeLogs(t, options), { onLine: masked(out, plainLine) })))
  return { ...result, containers: containers.length }
}
