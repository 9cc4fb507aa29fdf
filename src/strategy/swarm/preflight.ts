import { allServices, swarmInfo } from '../../docker/swarm.js'
import { parseJsonLines } from '../../docker/parse.js'
import { PreflightError } from '../../errors.js'
import type { Env } from '../../health/gate.js'
import { builtServices, type ComposeModel, publishedPorts } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import type { Plan } from '../strategy.js'
import { noRoutingMesh } from './apply.js'
import { registryBase } from './registry.js'

/**
 * SPEC §10's refusals for a Swarm environment, before anything changes (exit 2): the engine must be a swarm
 * manager, the compose files must not rely on what Swarm does not do, a built image needs a registry, the
 * registry must answer from the engine's host, and no other stack may publish its ports.
 */
export async function swarmPlan(deps: Deps, e: Env, model: ComposeModel): Promise<Plan> {
  refuseUnsupportedKeys(e, model)
  const manager = refuseNotManager(deps, e)
  const rest = Promise.all([refuseRegistry(deps, e, model), refuseStackPorts(deps, e, model), noRoutingMesh(deps)])
  rest.catch(() => undefined)
  // On an engine that is no manager the other reads fail too (docker service ls): that refusal is the one to give.
  await manager
  const [, , noMesh] = await rest
  if (noMesh && publishedPorts(model).length > 0) {
    deps.reporter.info(`${deps.target.description} has no routing mesh (no IPVS): ${e.env.name}'s ports are published in host mode, on the node that runs each task`)
  }
  // Overlay networks come from the swarm's own address pool, not the engine's default pools.
  return { networks: [], published: model }
}

export async function refuseNotManager(deps: Pick<Deps, 'run' | 'target'>, e: Env): Promise<void> {
  const result = await deps.run(swarmInfo(deps.target.engine), { allowFailure: true })
  const info = result.exitCode === 0 ? (JSON.parse(result.stdout || '{}') as { LocalNodeState?: string; ControlAvailable?: boolean }) : {}
  if (info.LocalNodeState === 'active' && info.ControlAvailable) return
  const state = info.LocalNodeState === 'active' ? 'a swarm worker, not a manager' : `not in a swarm (${info.LocalNodeState || 'inactive'})`
  throw new PreflightError(`${e.env.name} has target: swarm, but ${deps.target.description} is ${state}`, undefined, 'NOT_A_SWARM_MANAGER')
}

/**
 * Keys Swarm ignores that would change what runs: a fixed container_name is refused for every environment
 * already; network_mode (Swarm attaches services to the stack's networks only) and a depends_on condition
 * berth cannot wait for. Other ignored keys are said in the deploy's output.
 */
export function refuseUnsupportedKeys(e: Env, model: ComposeModel): void {
  const found: string[] = []
  for (const [name, svc] of Object.entries(model.services)) {
    const s = svc as ComposeModel['services'][string] & { network_mode?: string }
    if (s.network_mode !== undefined) found.push(`${name}: network_mode: ${s.network_mode} (Swarm runs services on the stack's networks only)`)
    for (const [dep, spec] of Object.entries(s.depends_on ?? {})) {
      const condition = spec.condition ?? 'service_started'
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) found.push(`${name}: depends_on ${dep} condition ${condition}`)
    }
  }
  if (found.length === 0) return
  throw new PreflightError(
    `${e.env.name} runs on Swarm, which ignores what these ask for: ${found.join('; ')}`,
    'Remove them from the compose files for this environment (an environment-only compose file can override them).',
    'SWARM_UNSUPPORTED_KEY',
  )
}

/** A built service needs somewhere to push to; and the registry must answer from the engine's host. */
async function refuseRegistry(deps: Deps, e: Env, model: ComposeModel): Promise<void> {
  const built = builtServices(model)
  const { registry } = e.env
  if (registry === undefined) {
    if (built.length === 0) return
    throw new PreflightError(
      `${e.env.name} runs on Swarm and builds ${built.join(', ')}, but names no registry: every node must be able to pull the release's images`,
      undefined,
      'REGISTRY_MISSING',
    )
  }
  refuseLoginUnset(e)
  const found = await registryBase(deps, registry)
  if ('why' in found) {
    throw new PreflightError(`registry ${registry} of ${e.env.name} does not answer from ${deps.target.description}: ${found.why}`, undefined, 'REGISTRY_UNREACHABLE')
  }
}

/** registry_login names env file variables: both must be set, or the push would fail half-way. */
export function refuseLoginUnset(e: Env): void {
  const login = e.env.registryLogin
  if (!login) return
  const unset = [login.username, login.password].filter((name) => !e.vars[name])
  if (unset.length === 0) return
  throw new PreflightError(
    `registry_login of ${e.env.name} names ${unset.join(' and ')}, which ${unset.length === 1 ? 'is' : 'are'} not set in ${e.env.envFile}`,
    `Set ${unset.join(' and ')} in ${e.env.envFile}, or remove registry_login to use your own docker login.`,
    'REGISTRY_LOGIN_UNSET',
  )
}

/** Ports published by another stack's services (ingress or host mode): Swarm would refuse them midway. */
async function refuseStackPorts(deps: Pick<Deps, 'run' | 'target'>, e: Env, model: ComposeModel): Promise<void> {
  const wanted = publishedPorts(model)
  if (wanted.length === 0) return
  const rows = parseJsonLines((await deps.run(allServices(deps.target.engine))).stdout)
  const clashes: string[] = []
  for (const row of rows) {
    const name = String(row.Name ?? '')
    if (name.startsWith(`${e.env.project}_`)) continue
    for (const w of wanted) {
      if (new RegExp(`(^|[^0-9]):?${w.port}->`).test(String(row.Ports ?? ''))) clashes.push(`host port ${w.port}/${w.protocol} (service ${w.service}) is published by service ${name}`)
    }
  }
  if (clashes.length === 0) return
  throw new PreflightError(`${e.env.name}: ${clashes.join('; ')}`, `Give ${e.env.name} its own port in ${e.env.envFile}, or remove what holds it.`, 'PORT_IN_USE')
}
