import { serviceLogs, stackNetworks, stackRemove, stackVolumes, volumeRemove } from '../../docker/swarm.js'
import type { EngineLocation } from '../../config/types.js'
import { containerRemove, inspectMounts, psByLabels } from '../../docker/docker.js'
import { parsePs } from '../../docker/parse.js'
import { SWARM_LABEL } from '../../names.js'
import type { Deps } from '../../run/context.js'
import { DockerCommandError, UsageError } from '../../errors.js'
import { mask } from '../../secrets.js'
import type { Strategy } from '../strategy.js'
import { applySwarm } from './apply.js'
import { recordedPins } from './images.js'
import { pruneRegistry } from './registry.js'
import { readOrDamaged } from '../../state/damage.js'
import { readReleases, type ReleaseRecord } from '../../state/releases.js'
import { readStack } from './gate.js'
import { runningTaskContainers, stackDrift, stackStatus } from './inspect.js'
import { swarmPlan } from './preflight.js'

/** Volumes without a name of their own (an image's VOLUME) that the stack's containers mount: Swarm never removes them. */
async function anonymousVolumes(deps: Deps, stack: string): Promise<string[]> {
  const listed = parsePs((await deps.run(psByLabels(deps.target.engine, [`${SWARM_LABEL.stack}=${stack}`]))).stdout, deps.target.labels)
  const out = new Set<string>()
  for (const c of listed) {
    const mounts = await deps.run(inspectMounts(deps.target.engine, c.id), { allowFailure: true })
    if (mounts.exitCode !== 0) continue
    for (const m of JSON.parse(mounts.stdout || '[]') as { Type?: string; Name?: string }[]) {
      if (m.Type === 'volume' && m.Name && /^[0-9a-f]{64}$/.test(m.Name)) out.add(m.Name)
    }
  }
  return [...out]
}

/** How an operator's docker reaches the environment's engine, as deploy.yml says where it is. */
function engineFlag(location: EngineLocation): string {
  if (location.kind === 'ssh') return ` --host ${location.url}`
  if (location.kind === 'context') return ` --context ${location.name}`
  return ''
}

/**
 * `target: swarm` (SPEC §10): the environment is the Swarm stack <app>-<env>, deployed from the release's
 * recorded stack file with its images pinned by digest, behind berth's own health gate and rollback.
 */
export const swarm: Strategy = {
  name: 'swarm',
  colours: [],
  projects: (env) => [env.project],
  beforeChange: async () => {},
  preflight: swarmPlan,
  runsWithoutLocalImages: async (deps, _e, tag, refs) => {
    const pins = await recordedPins(deps, tag)
    return refs.filter((ref) => pins.has(ref))
  },

  /**
   * The registry's tags of dropped releases, never a digest that a kept release of any environment using that
   * registry runs: the records of those on other hosts are read there too; one that cannot be read keeps them all.
   */
  async pruneBeyondEngine(deps, e, dropped, kept) {
    const { registry } = e.env
    if (registry === undefined) return
    const tags = dropped.map((r) => r.tag).join(', ')
    const here = JSON.stringify(e.env.location)
    const elsewhere = [...e.config.environments.values()].filter((o) => o.registry === registry && JSON.stringify(o.location) !== here)
    const others: ReleaseRecord[] = []
    for (const o of elsewhere) {
      const target = deps.targetOf(o)
      const read = await readOrDamaged(readReleases(target.state, o.name)).catch((error: unknown) => ({ ok: false as const, why: error instanceof Error ? error.message : String(error) }))
      if (!read.ok) {
        deps.reporter.warn(`retention: ${registry} keeps the tags of ${tags}: the records of ${o.name} on ${target.description} could not be read, so what it runs there is unknown`)
        return
      }
      others.push(...read.value)
    }
    const result = await pruneRegistry(deps, registry, dropped, [...kept, ...others])
    if (result.deleted.length > 0) deps.reporter.info(`retention: deleted from ${registry}: ${result.deleted.join(', ')}`)
    if (result.kept) deps.reporter.warn(`retention: ${registry} keeps tags of ${tags}: ${result.kept}`)
  },
  apply: applySwarm,
  serving: async (_deps, _config, env) => [env.project],
  composeProject: async (_deps, e) => {
    throw new UsageError(
      `${e.env.name} runs as the Swarm stack ${e.env.project}, not a compose project: berth compose does not reach it`,
      `Use docker's own commands on its engine, for example: docker${engineFlag(e.env.location)} stack ps ${e.env.project}; berth logs ${e.env.name}`,
      'COMPOSE_NOT_FOR_SWARM',
    )
  },
  logProjects: async (_deps, _e, running) => [running],

  /** `docker service logs` of each service of the stack (or the one asked for), at once. */
  async logs(deps, e, request, onLine) {
    const { services } = await readStack(deps, e.env.project)
    const names = services.map((s) => s.Spec.Name).filter((name) => request.service === undefined || name === `${e.env.project}_${request.service}`)
    await Promise.all(
      names.map(async (name) => {
        const argv = serviceLogs(deps.target.engine, name, { ...(request.tail !== undefined ? { tail: request.tail } : {}), follow: request.follow })
        const errors: string[] = []
        const read = await deps.run(argv, {
          onLine: (line, stream) => {
            if (stream === 'stderr') errors.push(line)
            onLine(line, stream)
          },
          allowFailure: true,
        })
        if (read.exitCode === 0) return
        // docker exits 1 when a task of the service has no logs to give (not scheduled yet, or its node is gone),
        // after printing every other task's: those are the logs there are.
        if (errors.some((line) => /incomplete log stream/.test(line))) {
          deps.reporter.warn(`not every task of ${name} had logs to read (docker's reason is above); the rest are shown`)
          return
        }
        throw new DockerCommandError(argv, read.exitCode, mask(errors.join('\n')))
      }),
    )
    return names.length
  },

  /**
   * `docker stack rm` of this stack only, waiting until its networks are gone. A job's task container outlives
   * its service there, so what is left of the stack's containers is removed by the stack's label. With
   * --volumes, its named volumes on this engine (node-local) and the anonymous ones its containers had.
   */
  async down(deps, e, _running, volumes) {
    const { engine } = deps.target
    const stack = e.env.project
    const anonymous = volumes ? await anonymousVolumes(deps, stack) : []
    await deps.run(stackRemove(engine, stack))
    const left = (await deps.run(psByLabels(engine, [`${SWARM_LABEL.stack}=${stack}`]))).stdout
    const ids = parsePs(left, deps.target.labels).map((c) => c.id)
    if (ids.length > 0) await deps.run(containerRemove(engine, ids), { allowFailure: true })
    for (let i = 0; i < 120; i++) {
      if ((await deps.run(stackNetworks(engine, stack))).stdout.trim() === '') break
      await deps.sleep(500)
    }
    if (!volumes) return
    const names = [...(await deps.run(stackVolumes(engine, stack))).stdout.split('\n').filter(Boolean), ...anonymous]
    // A task container may still hold a volume for a moment after its network went: retried briefly.
    for (let i = 0; names.length > 0 && i < 20; i++) {
      const result = await deps.run(volumeRemove(engine, names), { allowFailure: true })
      if (result.exitCode === 0) break
      await deps.sleep(500)
    }
  },

  async drift(deps, _config, env, active, containers) {
    const { services } = await readStack(deps, env.project)
    return stackDrift(env, active, services, containers)
  },
  shown: runningTaskContainers,
  async describe(deps, _config, env) {
    const { services, tasks } = await readStack(deps, env.project)
    return { stack: stackStatus(env.project, services, tasks) }
  },
  hostChecks: async () => [],
}
