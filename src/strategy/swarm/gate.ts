import type { HttpProbe } from '../../config/types.js'
import { serviceInspect, serviceTaskIds, stackServices, taskInspect } from '../../docker/swarm.js'
import { parseJsonLines } from '../../docker/parse.js'
import { DockerCommandError } from '../../errors.js'
import type { HealthFailure } from '../../health/wait.js'
import { mask } from '../../secrets.js'
import type { Deps } from '../../run/context.js'
import { judgeService, rollingBack, shortName, type SwarmService, type SwarmTask } from './converge.js'

/** What the engine says of a stack now: its services and their tasks (three reads). */
export interface StackState {
  services: SwarmService[]
  tasks: SwarmTask[]
}

/** The stack's services alone (two reads), without their tasks. */
async function readServices(deps: Pick<Deps, 'run' | 'target'>, stack: string): Promise<SwarmService[]> {
  const { engine } = deps.target
  const listed = parseJsonLines((await deps.run(stackServices(engine, stack))).stdout).map((r) => String(r.ID ?? ''))
  if (listed.length === 0) return []
  return JSON.parse((await deps.run(serviceInspect(engine, listed))).stdout) as SwarmService[]
}

/**
 * Waits, within `timeoutMs`, until Swarm has ended its own rollback of every service of the stack (see
 * rollingBack), so that what berth deploys next does not race it. Gives up quietly at the deadline: the gate
 * that follows judges what runs then.
 */
export async function waitSwarmRollbacks(
  deps: Pick<Deps, 'run' | 'target' | 'sleep' | 'now'>,
  stack: string,
  o: { timeoutMs: number; pollMs: number },
  update: (m: string) => void,
): Promise<void> {
  const deadline = deps.now().getTime() + o.timeoutMs
  for (;;) {
    const busy = rollingBack(stack, await readServices(deps, stack))
    if (busy.length === 0 || deps.now().getTime() + o.pollMs > deadline) return
    update(`Swarm is still rolling ${busy.join(', ')} back by itself`)
    await deps.sleep(o.pollMs)
  }
}

export async function readStack(deps: Pick<Deps, 'run' | 'target'>, stack: string): Promise<StackState> {
  const { engine } = deps.target
  const listed = parseJsonLines((await deps.run(stackServices(engine, stack))).stdout).map((r) => String(r.ID ?? ''))
  if (listed.length === 0) return { services: [], tasks: [] }
  const [services, taskIds] = await Promise.all([
    deps.run(serviceInspect(engine, listed)).then((r) => JSON.parse(r.stdout) as SwarmService[]),
    deps.run(serviceTaskIds(engine, listed)).then((r) => r.stdout.split('\n').filter(Boolean)),
  ])
  return { services, tasks: await inspectTasks(deps, taskIds) }
}

/**
 * The tasks in full. Swarm prunes its task history as it goes, so a task listed a moment ago may be gone:
 * `docker inspect` then still prints the others (and exits 1), which is what the stack has now.
 */
async function inspectTasks(deps: Pick<Deps, 'run' | 'target'>, ids: readonly string[]): Promise<SwarmTask[]> {
  if (ids.length === 0) return []
  const argv = taskInspect(deps.target.engine, ids)
  const result = await deps.run(argv, { allowFailure: true })
  const text = result.stdout.trim()
  if (text.startsWith('[')) return JSON.parse(text) as SwarmTask[]
  if (/not found/i.test(result.stderr)) return []
  throw new DockerCommandError(argv, result.exitCode, mask(result.stderr))
}

export interface StackPlan {
  stack: string
  /** The services (short names) this wait is about. */
  services: readonly string[]
  probes: HttpProbe[]
  timeoutMs: number
  intervalMs: number
  pollMs: number
}

export type StackWait = { ok: true; state: StackState } | { ok: false; failure: HealthFailure; errors: string[] }

/**
 * SPEC §10's gate: every service converged (running and, with a healthcheck, healthy; a job completed) and
 * none rolled back or paused by Swarm, then every HTTP probe answers, within the health timeout.
 */
export async function waitConverged(deps: Pick<Deps, 'run' | 'target' | 'probe' | 'sleep' | 'now'>, plan: StackPlan, update: (m: string) => void): Promise<StackWait> {
  const deadline = deps.now().getTime() + plan.timeoutMs
  let state: StackState
  for (;;) {
    state = await readStack(deps, plan.stack)
    const byName = new Map(state.services.map((s) => [shortName(plan.stack, s.Spec.Name), s]))
    const waiting: string[] = []
    for (const service of plan.services) {
      const s = byName.get(service)
      if (!s) {
        waiting.push(`${service} (no service yet)`)
        continue
      }
      const verdict = judgeService(plan.stack, s, state.tasks)
      if (verdict.state === 'failed') return { ok: false, failure: { check: `service ${service}`, lastError: verdict.why, services: [service] }, errors: verdict.errors }
      if (verdict.state === 'waiting') waiting.push(`${service} (${verdict.why})`)
    }
    if (waiting.length === 0) break
    update(`waiting for ${waiting.join(', ')}`)
    if (deps.now().getTime() + plan.pollMs > deadline) {
      const service = (waiting[0] as string).split(' ')[0] as string
      return { ok: false, failure: { check: `service ${service}`, lastError: `not converged after ${plan.timeoutMs / 1000}s: ${waiting.join(', ')}`, services: [service] }, errors: [] }
    }
    await deps.sleep(plan.pollMs)
  }
  update('all services converged')
  for (const probe of plan.probes) {
    for (;;) {
      const result = await deps.probe(probe)
      if (result.ok) break
      update(`${probe.url}: ${result.detail}`)
      if (deps.now().getTime() + plan.intervalMs > deadline) {
        return { ok: false, failure: { check: `http ${probe.url}`, lastError: result.detail, services: [...plan.services] }, errors: [] }
      }
      await deps.sleep(plan.intervalMs)
    }
  }
  return { ok: true, state }
}
