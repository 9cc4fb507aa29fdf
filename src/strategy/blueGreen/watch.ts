import { type Container, exitCodeFromStatus } from '../../docker/parse.js'
import { ensureEdge } from '../../edge/lifecycle.js'
import { readMaintenance } from '../../edge/maintenance.js'
import { type Env, recordedModel, reportFailure } from '../../health/gate.js'
import { oneOffServices } from '../../release/model.js'
import { colourProject, otherColour } from '../../names.js'
import { type Deps, projectContainers } from '../../run/context.js'
import { readColours, writeColours } from '../../state/colours.js'
import type { ReleaseRecord } from '../../state/releases.js'
import type { WatchOutcome } from '../strategy.js'
import { edgeProbes, keptForWatch, removeColour, stopOldColour, switchBack } from './apply.js'
import { colourFileProject } from './files.js'

/** How often the watch reads the new colour's containers and sends its probes through the edge. */
export const WATCH_POLL_MS = 500
/** A failed probe is sent once more after this long before it counts: one lost request is not a bad release. */
const RECHECK_MS = 150

/**
 * SPEC §9 watch: after the switch to `release`'s colour, for `windowMs`, reads its containers (one that exited,
 * restarts or is unhealthy fails it) and sends the `health.http` probes through the edge (one failing twice in
 * a row fails it). A failure switches the routes back to the previous colour, which kept running, within a
 * poll of seeing it, and the failed colour is removed after its logs are shown. At the end of the window (or
 * when `signal` aborts) the previous colour goes idle as `idle:` says.
 */
export async function watchBlueGreen(deps: Deps, e: Env, release: ReleaseRecord, windowMs: number, signal: AbortSignal): Promise<WatchOutcome> {
  const { env } = e
  const state = await readColours(e.target.state, env.name)
  const colour = state.live
  if (!colour) throw new Error(`${env.name}: nothing is live to watch`)
  const previous = otherColour(colour)
  const project = colourProject(env, colour)
  const oneOff = oneOffServices(await recordedModel(e, release))
  const deadline = deps.now().getTime() + windowMs
  const found = await deps.reporter.step(`watch ${env.name} ${release.tag} for ${Math.round(windowMs / 1000)}s (Ctrl-C ends the watch, not the release)`, async (update) => {
    let shown = -1
    while (!signal.aborted) {
      const left = deadline - deps.now().getTime()
      if (left <= 0) return undefined
      const seconds = Math.ceil(left / 1000)
      if (seconds !== shown && (seconds % 5 === 0 || seconds <= 5)) update(`${seconds}s left`)
      shown = seconds
      const failure = await firstFailure(deps, e, project, oneOff)
      if (failure) return failure
      await sleepUnless(deps, Math.min(WATCH_POLL_MS, Math.max(0, left)), signal)
    }
    return undefined
  })
  if (signal.aborted) {
    await goIdle(deps, e, previous)
    return { ended: 'interrupted', signal: String(signal.reason ?? 'SIGINT') }
  }
  if (!found) {
    await goIdle(deps, e, previous)
    return { ended: 'over' }
  }
  deps.reporter.warn(`${env.name} ${release.tag} failed inside its watch window: ${found.why}`)
  await switchBack(deps, e, state, previous)
  const target = colourFileProject(e, colour)
  await reportFailure(deps, e, release, { check: found.check, lastError: found.why, services: found.services }, target)
  await removeColour(deps, target)
  state[colour] = undefined
  await writeColours(e.target.state, env.name, state)
  return { ended: 'reverted', reason: found.why }
}

interface WatchFailure {
  check: string
  why: string
  services: string[]
}

/** What fails the watched colour now: a container, else a probe through the edge (skipped in maintenance). */
async function firstFailure(deps: Deps, e: Env, project: string, oneOff: ReadonlySet<string>): Promise<WatchFailure | undefined> {
  const bad = containerFailures(await projectContainers(deps, project), oneOff)
  if (bad.length) return { check: 'containers', why: bad.map((c) => c.why).join('; '), services: [...new Set(bad.map((c) => c.service))] }
  const probes = edgeProbes(e)
  if (probes.length === 0) return undefined
  const edge = await ensureEdge(deps, e.config.edge, e.config.stateDir)
  if (await readMaintenance(edge.files, edge.liveDir, e.config.app, e.env.name)) return undefined
  for (const probe of probes) {
    let result = await deps.probe(probe)
    if (result.ok) continue
    await deps.sleep(RECHECK_MS)
    result = await deps.probe(probe)
    if (!result.ok) return { check: `http ${probe.url} through the edge`, why: `${probe.url} through the edge: ${result.detail}`, services: [...new Set(e.env.routes.map((r) => r.service))] }
  }
  return undefined
}

/** The watched colour's containers that fail it: exited (but a one-off job that ended with 0) or dead, restarting, or unhealthy. */
export function containerFailures(containers: readonly Container[], oneOff: ReadonlySet<string> = new Set()): { service: string; why: string }[] {
  return containers.flatMap((c) => {
    const service = c.service ?? c.name
    if (c.state === 'exited' && oneOff.has(service) && exitCodeFromStatus(c.status) === 0) return []
    if (c.state === 'exited' || c.state === 'dead') return [{ service, why: `${c.name} ${c.state} (${c.status})` }]
    if (c.state === 'restarting') return [{ service, why: `${c.name} is restarting` }]
    if (c.health === 'unhealthy') return [{ service, why: `${c.name} is unhealthy` }]
    return []
  })
}

/** The previous colour, if the watch kept it as it was (keptForWatch), goes idle now. */
async function goIdle(deps: Deps, e: Env, previous: ReturnType<typeof otherColour>): Promise<void> {
  if (!keptForWatch(e, true)) return
  const state = await readColours(e.target.state, e.env.name)
  await stopOldColour(deps, e, state, previous)
}

function sleepUnless(deps: Deps, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => resolve()
    signal.addEventListener('abort', done, { once: true })
    void deps.sleep(ms).then(() => {
      signal.removeEventListener('abort', done)
      resolve()
    })
  })
}
