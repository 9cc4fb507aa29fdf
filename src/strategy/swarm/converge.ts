/**
 * SPEC §10's health gate for a stack, judged from what the engine says of its services and tasks
 * (`docker service inspect`, `docker inspect` of the tasks). Pure: the wait reads, this judges.
 */

/** The parts of a service (Engine API's Service object) berth reads. */
export interface SwarmService {
  ID: string
  Version?: { Index?: number }
  UpdatedAt?: string
  Spec: {
    Name: string
    Labels?: Record<string, string>
    TaskTemplate?: { ContainerSpec?: ContainerSpec }
    Mode?: { Replicated?: { Replicas?: number }; ReplicatedJob?: { TotalCompletions?: number; MaxConcurrent?: number }; Global?: object; GlobalJob?: object }
    EndpointSpec?: { Ports?: PublishedPort[] }
  }
  Endpoint?: { Ports?: PublishedPort[] }
  UpdateStatus?: { State?: string; Message?: string }
  JobStatus?: { JobIteration?: { Index?: number } }
}

export interface ContainerSpec {
  Image?: string
  Labels?: Record<string, string>
  [key: string]: unknown
}

export interface PublishedPort {
  Protocol?: string
  TargetPort?: number
  PublishedPort?: number
  PublishMode?: string
}

/** The parts of a task berth reads. */
export interface SwarmTask {
  ID: string
  ServiceID: string
  Slot?: number
  NodeID?: string
  CreatedAt?: string
  DesiredState?: string
  Status?: { State?: string; Message?: string; Err?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } }
  Spec?: { ContainerSpec?: ContainerSpec }
  JobIteration?: { Index?: number }
}

/** Where a service stands after a stack deploy. */
export type ServiceVerdict =
  | { state: 'converged'; service: string }
  | { state: 'waiting'; service: string; why: string }
  | { state: 'failed'; service: string; why: string; errors: string[] }

/** Swarm's update states that mean the new spec did not take: rolled back or paused (SPEC §10). */
const FAILED_UPDATE = new Set(['rollback_started', 'rollback_completed', 'rollback_paused', 'paused'])
/** Task states that end a task for good. */
const ENDED = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove'])
/** A long-running service whose current spec failed this many tasks is failing (Swarm would restart it forever). */
export const FAILED_TASKS_LIMIT = 3

/** The short name of a stack's service: `<stack>_web` → web. */
export function shortName(stack: string, service: string): string {
  return service.startsWith(`${stack}_`) ? service.slice(stack.length + 1) : service
}

export function isJob(s: SwarmService): boolean {
  return s.Spec.Mode?.ReplicatedJob !== undefined || s.Spec.Mode?.GlobalJob !== undefined
}

/** Tasks made from the service's current spec (a job's: of its current iteration). */
export function currentTasks(s: SwarmService, tasks: readonly SwarmTask[]): SwarmTask[] {
  const spec = canonical(identity(s.Spec.TaskTemplate?.ContainerSpec))
  // Every update of a job runs it again, with the same spec: its current run's tasks are those of the service's
  // job iteration. Without iterations (an older engine), those made since its last update — a guess, as Swarm
  // may write the service again as it starts the run.
  // An iteration's Index 0 is left out of the engine's JSON ({"JobIteration":{}}).
  const iteration = isJob(s) && s.JobStatus?.JobIteration ? (s.JobStatus.JobIteration.Index ?? 0) : undefined
  const since = isJob(s) && iteration === undefined && s.UpdatedAt ? Date.parse(s.UpdatedAt) - 1 : undefined
  return tasks.filter(
    (t) =>
      t.ServiceID === s.ID &&
      canonical(identity(t.Spec?.ContainerSpec)) === spec &&
      (iteration === undefined || (t.JobIteration?.Index ?? 0) === iteration) &&
      (since === undefined || t.CreatedAt === undefined || Date.parse(t.CreatedAt) >= since),
  )
}

/** A task's error as people read it: its state, the error and the engine's message. */
export function taskError(t: SwarmTask): string {
  const state = t.Status?.State ?? 'unknown'
  const parts = [t.Status?.Err, t.Status?.Message].filter((p): p is string => Boolean(p) && p !== state)
  return `task ${t.ID.slice(0, 12)} ${state}${parts.length ? `: ${[...new Set(parts)].join('; ')}` : ''}`
}

/**
 * One service's verdict. Converged: its update (if any) completed and as many tasks of the current spec are
 * running as it wants (Swarm reports a task with a healthcheck as running only once it is healthy), or, for a
 * job, have completed. Failed: Swarm rolled the update back or paused it, a job's task failed, or the current
 * spec keeps failing tasks.
 */
export function judgeService(stack: string, s: SwarmService, tasks: readonly SwarmTask[]): ServiceVerdict {
  const service = shortName(stack, s.Spec.Name)
  const current = currentTasks(s, tasks)
  const failedTasks = current.filter((t) => t.Status?.State === 'failed' || t.Status?.State === 'rejected')
  const errors = failedTasks.map(taskError)
  const update = s.UpdateStatus?.State
  if (update !== undefined && FAILED_UPDATE.has(update)) {
    const why = `Swarm ${update === 'paused' ? 'paused its update' : 'rolled its update back'}${s.UpdateStatus?.Message ? ` (${s.UpdateStatus.Message})` : ''}`
    return { state: 'failed', service, why, errors: errors.length ? errors : recentErrors(s, tasks) }
  }
  if (isJob(s)) {
    if (failedTasks.length > 0) return { state: 'failed', service, why: 'its job did not complete', errors }
    const want = s.Spec.Mode?.ReplicatedJob?.TotalCompletions ?? 1
    const done = current.filter((t) => t.Status?.State === 'complete').length
    return done >= want ? { state: 'converged', service } : { state: 'waiting', service, why: `job ${done}/${want} completed` }
  }
  if (failedTasks.length >= FAILED_TASKS_LIMIT) return { state: 'failed', service, why: `${failedTasks.length} of its tasks failed`, errors }
  if (update === 'updating') return { state: 'waiting', service, why: 'updating' }
  const want = s.Spec.Mode?.Replicated?.Replicas ?? 1
  const running = current.filter((t) => t.DesiredState === 'running' && t.Status?.State === 'running').length
  const stale = tasks.filter((t) => t.ServiceID === s.ID && !current.includes(t) && t.DesiredState === 'running' && !ENDED.has(t.Status?.State ?? '')).length
  if (running >= want && stale === 0) return { state: 'converged', service }
  // Every task of the current spec still on its way (a task Swarm holds back is desired `ready`, not `running`),
  // with what holds it back: "pending: no suitable node (host-mode port already in use on 1 node)".
  const states = current
    .filter((t) => !ENDED.has(t.DesiredState ?? '') && !ENDED.has(t.Status?.State ?? ''))
    .filter((t) => !(t.DesiredState === 'running' && t.Status?.State === 'running'))
    .map((t) => `${t.Status?.State ?? 'unknown'}${t.Status?.State === 'pending' && t.Status.Err ? `: ${t.Status.Err}` : ''}`)
  return { state: 'waiting', service, why: `${running}/${want} running${states.length ? ` (${[...new Set(states)].join(', ')})` : ''}` }
}

/**
 * The services Swarm is still rolling back by itself (failure_action: rollback). A stack deploy now would race
 * that rollback: on host-mode ports, the task it starts waits for a port the task being stopped still holds,
 * and Swarm may leave it pending long after.
 */
export function rollingBack(stack: string, services: readonly SwarmService[]): string[] {
  return services.filter((s) => s.UpdateStatus?.State === 'rollback_started').map((s) => shortName(stack, s.Spec.Name))
}

/** The tasks that made Swarm roll back: those its message names, and the service's latest failed ones. */
function recentErrors(s: SwarmService, tasks: readonly SwarmTask[]): string[] {
  const message = s.UpdateStatus?.Message ?? ''
  return tasks
    .filter((t) => t.ServiceID === s.ID && (message.includes(t.ID) || t.Status?.State === 'failed' || t.Status?.State === 'rejected'))
    .sort((a, b) => (b.Status?.Timestamp ?? '').localeCompare(a.Status?.Timestamp ?? ''))
    .slice(0, 3)
    .map(taskError)
}

/**
 * What tells one spec's tasks from another's: the engine fills in defaults on the service's copy that its tasks
 * lack, so the whole ContainerSpec never compares equal; image, labels (berth's carry the release), environment
 * and command do, and a stack deploy changes one of them whenever it changes what runs.
 */
function identity(spec: ContainerSpec | undefined): unknown {
  if (!spec) return null
  return { image: spec.Image, labels: spec.Labels ?? {}, env: spec.Env ?? [], command: spec.Command ?? [], args: spec.Args ?? [] }
}

/** JSON with sorted keys: two copies of one spec compare equal whatever order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  )
}
