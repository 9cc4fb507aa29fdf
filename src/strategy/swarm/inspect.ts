import type { EnvironmentConfig } from '../../config/types.js'
import type { Container } from '../../docker/parse.js'
import type { DriftItem, EnvironmentDrift } from '../../inspect/drift.js'
import { SWARM_LABEL } from '../../names.js'
import type { ReleaseRecord } from '../../state/releases.js'
import { currentTasks, isJob, shortName, type SwarmService, type SwarmTask } from './converge.js'
import { specHash } from './apply.js'
import { byCodePoint } from '../../order.js'

/** What `berth status` shows of each service of a stack (SPEC §10): mode, replicas, task states, published ports. */
export interface StackServiceStatus {
  service: string
  mode: 'replicated' | 'job' | 'global'
  /** Running (a job: completed) tasks of its current spec, and how many it wants. */
  replicas: string
  /** Tasks of the current spec by state: "running 1", "starting 1". */
  tasks: string
  image: string
  ports: string
  /** Swarm's update state, when the last update did not simply complete. */
  update?: string
}

/** The stack's services as status shows them, from the same reads as the health gate. */
export function stackStatus(stack: string, services: readonly SwarmService[], tasks: readonly SwarmTask[]): StackServiceStatus[] {
  return services
    .map((s) => {
      const current = currentTasks(s, tasks).filter((t) => t.DesiredState !== 'shutdown' || t.Status?.State === 'complete')
      const states = new Map<string, number>()
      for (const t of current) states.set(t.Status?.State ?? 'unknown', (states.get(t.Status?.State ?? 'unknown') ?? 0) + 1)
      const job = isJob(s)
      const want = job ? (s.Spec.Mode?.ReplicatedJob?.TotalCompletions ?? 1) : (s.Spec.Mode?.Replicated?.Replicas ?? 1)
      const done = current.filter((t) => t.Status?.State === (job ? 'complete' : 'running')).length
      const ports = (s.Endpoint?.Ports ?? s.Spec.EndpointSpec?.Ports ?? []).map((p) => `${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'} (${p.PublishMode ?? 'ingress'})`)
      const update = s.UpdateStatus?.State
      return {
        service: shortName(stack, s.Spec.Name),
        mode: job ? ('job' as const) : s.Spec.Mode?.Global ? ('global' as const) : ('replicated' as const),
        replicas: s.Spec.Mode?.Global ? String(done) : `${done}/${want}`,
        tasks: [...states].map(([state, n]) => `${state} ${n}`).join(', ') || 'none',
        image: s.Spec.TaskTemplate?.ContainerSpec?.Image ?? '',
        ports: ports.join(', ') || '-',
        ...(update && update !== 'completed' ? { update } : {}),
      }
    })
    .sort((a, b) => byCodePoint(a.service, b.service))
}

/** The task containers that run now: Swarm keeps its tasks' exited containers as history, which is not what runs. */
export function runningTaskContainers(containers: readonly Container[]): Container[] {
  return containers.filter((c) => !c.labels[SWARM_LABEL.task] || c.state === 'running' || c.state === 'restarting')
}

/**
 * SPEC §7 drift of a stack (SPEC §10): each service's spec against the hash recorded when the release
 * converged (a `docker service update` by hand changes it), its image against the pinned one, services of
 * the stack the release does not have, and containers carrying the stack's label that are no task of it.
 */
export function stackDrift(env: EnvironmentConfig, active: ReleaseRecord | undefined, services: readonly SwarmService[], containers: readonly Container[]): EnvironmentDrift {
  const drift: DriftItem[] = []
  for (const c of containers) {
    if (!c.labels[SWARM_LABEL.task]) {
      drift.push({ kind: 'unlabelled', service: c.service ?? '', container: c.name, message: `carries the stack's label but is no task of ${env.project}: started by hand` })
    }
  }
  if (!active) {
    for (const s of services) drift.push({ kind: 'no-release', service: shortName(env.project, s.Spec.Name), message: 'runs, but no release is active' })
    return { drift }
  }
  const hashes = active.configHashes ?? {}
  for (const s of services) {
    const service = shortName(env.project, s.Spec.Name)
    const expected = active.images[service]
    const image = s.Spec.TaskTemplate?.ContainerSpec?.Image ?? ''
    if (expected === undefined && !(service in hashes)) {
      drift.push({ kind: 'unknown-service', service, message: `a service of the stack that release ${active.tag} does not have` })
      continue
    }
    if (expected !== undefined && image !== expected) drift.push({ kind: 'image', service, expected, actual: image, message: `runs ${image}, release ${active.tag} has ${expected}` })
    else if (hashes[service] !== undefined && specHash(s) !== hashes[service]) {
      drift.push({ kind: 'config', service, message: `its spec differs from release ${active.tag}: changed by hand (docker service update?)` })
    }
  }
  const running = new Set(services.map((s) => shortName(env.project, s.Spec.Name)))
  for (const service of Object.keys(hashes)) {
    if (!running.has(service)) drift.push({ kind: 'missing', service, message: `release ${active.tag} has ${service}, the stack has no such service` })
  }
  return { drift }
}
