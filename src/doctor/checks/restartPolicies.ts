import { SWARM_LABEL } from '../../names.js'
import type { EnvironmentConfig } from '../../config/types.js'
import { inspectRestartPolicies } from '../../docker/docker.js'
import { type Container, type LabelScheme, parseRestartPolicies, type RestartPolicyRow } from '../../docker/parse.js'
import { oneOffServices } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import { strategyOf } from '../../strategy/strategy.js'
import type { ActiveRelease } from '../activeRelease.js'
import { type Check, plural } from '../check.js'

export interface RestartPolicies {
  /** The containers of the app's environments, `compose run` ones left out. */
  containers: Container[]
  policies: RestartPolicyRow[]
}

/** The restart policies of the app's containers, from one `inspect` of them all (none when there are none). */
export async function readRestartPolicies(deps: Pick<Deps, 'run' | 'target'>, envs: readonly EnvironmentConfig[], running: readonly Container[]): Promise<RestartPolicies> {
  const containers = running.filter((c) => envs.some((e) => strategyOf(e).projects(e).includes(c.project ?? '')) && isManaged(deps.target.labels, c))
  if (containers.length === 0) return { containers, policies: [] }
  // allowFailure: a container removed between ps and inspect makes inspect exit 1, the others still print.
  const inspected = await deps.run(inspectRestartPolicies(deps.target.engine, containers.map((c) => c.id)), { allowFailure: true })
  return { containers, policies: parseRestartPolicies(inspected.stdout) }
}

/**
 * Seed 001: containers with restart `no` (or none) or `on-failure` do not come back when the host or
 * the engine restarts. One-off services (migrations others wait on) are meant to stay exited.
 */
export function restartCheck(actives: readonly ActiveRelease[], containers: readonly Container[], policies: readonly RestartPolicyRow[]): Check {
  const oneOff = new Map(actives.map((a) => [a.env.project, a.model ? oneOffServices(a.model) : new Set<string>()]))
  const envOf = new Map(actives.map((a) => [a.env.project, a.env.name]))
  const flagged: string[] = []
  let checked = 0
  for (const c of containers) {
    if (c.service && oneOff.get(c.project ?? '')?.has(c.service)) continue
    // A Swarm task's container is restarted (or replaced) by Swarm, under the service's restart policy.
    if (c.labels[SWARM_LABEL.task]) continue
    const policy = policies.find((p) => p.id === c.id)
    if (!policy) continue
    checked++
    const restart = policy.restart || 'no'
    if (restart === 'always' || restart === 'unless-stopped') continue
    flagged.push(`${c.name} (${envOf.get(c.project ?? '') ?? c.project}/${c.service ?? '?'}): restart ${restart}`)
  }
  if (flagged.length === 0) return { id: 'restart-policies', status: 'ok', summary: `${checked} long-running container${plural(checked)} restart${checked === 1 ? 's' : ''} after a reboot`, details: [] }
  return {
    id: 'restart-policies',
    status: 'fail',
    summary: `${flagged.length} container${plural(flagged.length)} will not come back after a reboot or engine restart`,
    details: flagged,
    hint: 'Set restart: unless-stopped on those services in the compose file (berth adds it to services that have no restart policy) and deploy again; for a container recreated by hand, berth deploy ENV --tag <active release> recreates it as recorded.',
  }
}

/** A container the orchestrator created for a service, not a one-off run (`compose run`). */
function isManaged(labels: LabelScheme, c: Container): boolean {
  return !labels.managed || c.labels[labels.managed.label] === labels.managed.value
}
