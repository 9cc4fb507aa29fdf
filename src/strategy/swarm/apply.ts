import { join } from 'node:path'
import { createHash } from '../../crypto.js'

import { parse, stringify } from 'yaml'

import { registryLogin, serviceLogs, serviceRemove, stackDeploy } from '../../docker/swarm.js'
import { NeedsPersonError, RolledBackError } from '../../errors.js'
import { type Env, envProbes, recordedConfig } from '../../health/gate.js'
import type { HealthFailure } from '../../health/wait.js'
import { oneOffServices, type ComposeModel } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import { configPath } from '../../state/paths.js'
import type { ReleaseRecord } from '../../state/releases.js'
import { localFiles } from '../../target/files.js'
import type { Applied, ApplyOptions } from '../strategy.js'
import { shortName, type SwarmService } from './converge.js'
import { readStack, type StackWait, waitConverged, waitSwarmRollbacks } from './gate.js'
import { pushAndPin, recordedPins } from './images.js'
import { type ComposeConfig, stackFile, type StackFile, type Waits, waitsOf, waves, withServices } from './stackFile.js'

/** The stack file's own record of what waits on what (an extension field docker's loader accepts). */
const WAITS_KEY = 'x-berth-waits'
/** How often the gate reads the stack at most: each read is three engine calls. */
const STACK_POLL_MS = 500

export interface SwarmRelease {
  /** The stack file, pinned, as recorded. */
  stack: StackFile['stack']
  /** Its file name in the environment's releases/ folder. */
  configFile: string
  images: Record<string, string>
}

/**
 * A release as Swarm runs it: a release recorded by an earlier deploy (rollback) already is its stack file; a new
 * one is compose's resolved config, whose built images are pushed and pinned and which is turned into the stack
 * file, recorded beside it (SPEC §10: records hold the exact stack file applied).
 */
export async function swarmRelease(deps: Deps, e: Env, release: ReleaseRecord): Promise<SwarmRelease> {
  const text = await recordedConfig(e, release)
  if (release.configFile.endsWith('.stack.yaml')) return { stack: parse(text) as StackFile['stack'], configFile: release.configFile, images: release.images }
  const model = parse(text) as ComposeConfig
  const known = await recordedPins(deps, release.tag)
  const images = await deps.reporter.step(`push ${release.tag} to ${e.env.registry ?? 'the registry'}`, (update) => pushAndPin(deps, release.images, release.builtImages, known, update))
  const { stack, ignored } = stackFile(model, {
    app: e.config.app,
    env: e.env.name,
    tag: release.tag,
    images,
    oneOff: oneOffServices(model as ComposeModel),
    noMesh: await noRoutingMesh(deps),
  })
  if (ignored.length > 0) deps.reporter.warn(`Swarm does not run ${ignored.join(', ')}: left out of ${e.env.name}'s stack file`)
  stack[WAITS_KEY] = waitsOf(model)
  const configFile = release.configFile.replace(/\.compose\.yaml$/, '.stack.yaml')
  const { state } = deps.target
  await state.files.writeAtomic(configPath(state.dir, e.env.name, configFile), `# berth release ${release.tag} of ${e.config.app}/${e.env.name}: the stack file applied\n${stringify(stack)}`)
  return { stack, configFile, images }
}

/** registry_login: docker login with the env file's credentials, the password on stdin only. */
async function logIn(deps: Deps, e: Env): Promise<void> {
  const login = e.env.registryLogin
  const { registry } = e.env
  if (!login || !registry) return
  const host = registry.split('/')[0] as string
  await deps.reporter.step(`log in to ${host} as ${e.vars[login.username]}`, async () => {
    await deps.run(registryLogin(deps.target.engine, host, e.vars[login.username] as string), { input: e.vars[login.password] as string })
  })
}

/** SPEC §10: Swarm's routing mesh needs IPVS on the engine's host; without it ports are published in host mode. */
export async function noRoutingMesh(deps: Pick<Deps, 'target'>): Promise<boolean> {
  return (await deps.target.host.files.read('/proc/net/ip_vs')) === undefined
}

export async function applySwarm(deps: Deps, e: Env, release: ReleaseRecord, options: ApplyOptions): Promise<Applied> {
  // Before a push and before a rollback's stack deploy alike: the nodes pull with these credentials.
  await logIn(deps, e)
  const applying = await swarmRelease(deps, e, release)
  const result = await deployAndWait(deps, e, release.tag, applying.stack)
  const record = { configFile: applying.configFile, images: applying.images }
  if (result.ok) return { configHashes: specHashes(e.env.project, result.state.services), record }
  await reportStackFailure(deps, e, release.tag, result)
  await options.failed()
  return restorePrevious(deps, e, release.tag, result.failure, options.previous)
}

/**
 * `docker stack deploy` wave by wave (compose's depends_on order, which Swarm ignores), waiting for each wave to
 * converge; the last one prunes services the release no longer has, then the HTTP probes run.
 */
export async function deployAndWait(deps: Deps, e: Env, tag: string, stack: StackFile['stack']): Promise<StackWait> {
  const before = (await readStack(deps, e.env.project)).services
  const existing = new Set(before.map((s) => shortName(e.env.project, s.Spec.Name)))
  const jobs = new Set(Object.entries(stack.services).filter(([, s]) => String((s.deploy as { mode?: string } | undefined)?.mode ?? '').endsWith('job')).map(([name]) => name))
  const order = waves(Object.keys(stack.services).sort(), (stack[WAITS_KEY] as Waits | undefined) ?? {}, { existing, jobs })
  const dir = join(deps.target.state.workDir, e.env.name)
  let result: StackWait | undefined
  for (const [i, wave] of order.entries()) {
    const last = i === order.length - 1
    const file = join(dir, `stack.${i}.yaml`)
    // Only this wave's services: a stack deploy updates every service its file names, and runs a job again each time.
    const { [WAITS_KEY]: _, ...content } = withServices(stack, wave)
    await localFiles.writeAtomic(file, stringify(content))
    await deps.reporter.step(`apply ${tag} to stack ${e.env.project}${order.length > 1 ? ` (${wave.join(', ')})` : ''}`, async () => {
      await deps.run(stackDeploy(deps.target.engine, e.env.project, file))
      // What the release no longer has goes once the rest is applied (stack deploy --prune, by name).
      const gone = before.filter((s) => !(shortName(e.env.project, s.Spec.Name) in stack.services)).map((s) => s.Spec.Name)
      if (last && gone.length > 0) await deps.run(serviceRemove(deps.target.engine, gone))
    })
    result = await deps.reporter.step(`wait until ${wave.join(', ')} of ${tag} ${wave.length === 1 ? 'has' : 'have'} converged`, async (update) => {
      const plan = {
        stack: e.env.project,
        services: wave,
        probes: last ? envProbes(e) : [],
        timeoutMs: e.env.health.timeoutMs,
        intervalMs: e.env.health.intervalMs,
        pollMs: Math.min(e.env.health.intervalMs, STACK_POLL_MS),
      }
      return waitConverged(deps, plan, update)
    })
    if (!result.ok) return result
  }
  return result as StackWait
}

/** The drift baseline of a stack: a hash of each service's spec once converged. */
export function specHashes(stack: string, services: readonly SwarmService[]): Record<string, string> {
  return Object.fromEntries(services.map((s) => [shortName(stack, s.Spec.Name), specHash(s)]))
}

export function specHash(s: SwarmService): string {
  return createHash('sha256').update(JSON.stringify(s.Spec)).digest('hex').slice(0, 16)
}

/** SPEC §10: the failing service, its task errors and its last log lines (masked by the reporter). */
async function reportStackFailure(deps: Deps, e: Env, tag: string, result: Extract<StackWait, { ok: false }>): Promise<void> {
  const { failure } = result
  deps.reporter.warn(`${e.env.name} ${tag} is not healthy: ${failure.check} failed: ${failure.lastError}`)
  if (result.errors.length > 0) deps.reporter.block(`task errors of ${failure.services.join(', ')}:`, result.errors)
  for (const service of failure.services) {
    const logs = await deps.run(serviceLogs(deps.target.engine, `${e.env.project}_${service}`, { tail: 50 }), { allowFailure: true })
    const lines = `${logs.stdout}\n${logs.stderr}`.split('\n').filter((l) => l.trim() !== '').slice(-50)
    deps.reporter.block(`last ${lines.length} log lines of ${service}:`, lines.length ? lines : ['(no output)'])
  }
}

/**
 * After a failed release: the previous release's recorded stack file is deployed again (never
 * `docker service rollback`, which knows one step only). Always throws: exit 3 when healthy again, 4 when not.
 */
async function restorePrevious(deps: Deps, e: Env, failedTag: string, failure: HealthFailure, previous: ReleaseRecord | undefined): Promise<never> {
  const what = `${failure.check} failed: ${failure.lastError}`
  if (!previous) {
    throw new NeedsPersonError(
      `${e.env.name} ${failedTag} is not healthy (${what}) and there is no earlier release to roll back to`,
      `The failed release is left in place for inspection: berth logs ${e.env.name}. Fix it and deploy again, or remove it with: berth down ${e.env.name}`,
    )
  }
  deps.reporter.info(`rolling ${e.env.name} back to ${previous.tag}: its recorded stack file`)
  // Swarm may still be rolling the failed service back by itself: deploying over that races it.
  await deps.reporter.step(`let Swarm end its own rollback of ${e.env.project}`, (update) =>
    waitSwarmRollbacks(deps, e.env.project, { timeoutMs: e.env.health.timeoutMs, pollMs: STACK_POLL_MS }, update),
  )
  const back = await deployAndWait(deps, e, previous.tag, (await swarmRelease(deps, e, previous)).stack)
  if (!back.ok) {
    await reportStackFailure(deps, e, previous.tag, back)
    throw new NeedsPersonError(
      `${e.env.name} ${failedTag} is not healthy (${what}), and rolling back to ${previous.tag} failed too (${back.failure.check}: ${back.failure.lastError})`,
      `The environment needs a person: berth status ${e.env.name}; berth logs ${e.env.name}`,
    )
  }
  throw new RolledBackError(
    `${e.env.name} ${failedTag} is not healthy (${what}); rolled back to ${previous.tag}, which is healthy`,
    `See the task errors and logs above; fix and deploy again. The failed release stays recorded: berth releases ${e.env.name}`,
  )
}
