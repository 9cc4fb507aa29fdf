import type { Container } from '../../docker/parse.js'
import { containerMemory } from '../../inspect/memory.js'
import { access, readFile } from 'node:fs/promises'

import { parse } from 'yaml'

import type { Config, EnvironmentConfig } from '../../config/types.js'
import { type ComposeProject, composeDown } from '../../docker/compose.js'
import { readMaintenance } from '../../edge/maintenance.js'
import { hostEdgePaths } from '../../edge/paths.js'
import { removeRoutes } from '../../edge/routes.js'
import { UsageError } from '../../errors.js'
import type { Env } from '../../health/gate.js'
import { COLOURS, colourProject, otherColour } from '../../names.js'
import { type Deps, sourceProject } from '../../run/context.js'
import { readColours, writeColours } from '../../state/colours.js'
import { readOrDamaged } from '../../state/damage.js'
import type { ColourChoice, ColourStatus } from '../strategy.js'
import { upstreamKey } from './colours.js'
import { colourFile, colourFileProject, splitRelease, statefulFile, statefulProject, writeColourFile } from './files.js'

/** What `berth down`, `logs`, `compose` and `status` address in a blue-green environment. */

/** `down`: both colours first (they use the stateful project's networks), the routes, then the stateful project. */
export async function downBlueGreen(deps: Deps, e: Env, running: ComposeProject, volumes: boolean): Promise<void> {
  const { config, env } = e
  const state = await readColours(deps.target.state, env.name)
  for (const colour of COLOURS) {
    const slot = state[colour]
    if (!slot) continue
    const split = await splitRelease(e, slot, colour, state.upstreams[colour])
    await deps.run(composeDown(await writeColourFile(e, colour, slot.tag, split.colour), { volumes }))
  }
  if (state.live) await removeRoutes(deps, config.edge, config.stateDir, config.app, env.name)
  await writeColours(deps.target.state, env.name, { upstreams: state.upstreams })
  await deps.run(composeDown(running, { volumes }))
}

/**
 * What status shows: the colour state, and the maintenance page from the edge's directory on the host (a file
 * read: status asks the edge nothing). A page that cannot be read is not shown.
 */
export async function colourStatus(deps: Deps, config: Config, env: EnvironmentConfig, containers: readonly Container[] = []): Promise<ColourStatus> {
  const [state, maintenance] = await Promise.all([
    readColours(deps.target.state, env.name),
    hostEdgePaths(deps.target.host).then(({ live }) => readMaintenance(deps.target.host.files, live, config.app, env.name)).catch(() => undefined),
  ])
  const idleColour = state.live ? otherColour(state.live) : undefined
  const idleSlot = idleColour ? state[idleColour] : undefined
  const memoryBytes = idleColour ? await idleMemory(deps, containers.filter((c) => c.project === colourProject(env, idleColour) && c.state === 'running')) : undefined
  return {
    ...(state.live ? { live: state.live } : {}),
    ...(maintenance ? { maintenance } : {}),
    ...(idleColour && idleSlot ? { idle: { colour: idleColour, release: idleSlot.tag, mode: env.idle, ...(memoryBytes !== undefined ? { memoryBytes } : {}) } } : {}),
    routes: env.routes.map((r) => {
      const port = state.live ? state.upstreams[state.live][upstreamKey(r)] : undefined
      return { listen: r.listen, ...(r.host ? { host: r.host } : {}), service: r.service, port: r.port, ...(port ? { upstream: `${state.live} 127.0.0.1:${port}` } : {}) }
    }),
  }
}

/** The memory the idle colour's running containers use, read from their cgroups; undefined when none runs or it cannot be read. */
async function idleMemory(deps: Deps, running: readonly Container[]): Promise<number | undefined> {
  if (running.length === 0) return undefined
  const each = await Promise.all(running.map((c) => containerMemory(deps.target.host.files, c.id)))
  return each.every((b) => b !== undefined) ? each.reduce((a, b) => a + b, 0) : undefined
}

/** The stateful project and the live colour; the idle colour is idle on purpose (stopped, or its routed services running). Damaged colour state: the stateful project alone. */
export async function servingProjects(deps: Deps, _config: Config, env: EnvironmentConfig): Promise<string[]> {
  const live = (await readOrDamaged(readColours(deps.target.state, env.name))).value?.live
  return [env.project, ...(live ? [colourProject(env, live)] : [])]
}

/**
 * What `logs` reads: the stateful project and the live colour, each with the compose file it was last
 * applied with, those of them that run `service` when one is asked for.
 */
export async function logProjects(e: Env, service: string | undefined): Promise<ComposeProject[]> {
  const state = await readColours(e.target.state, e.env.name)
  const parts = [{ project: statefulProject(e), file: statefulFile(e) }, ...(state.live ? [{ project: colourFileProject(e, state.live), file: colourFile(e, state.live) }] : [])]
  const out: ComposeProject[] = []
  for (const part of parts) {
    const text = await readFile(part.file, 'utf8').catch(() => undefined)
    if (text === undefined) continue
    const services = Object.keys((parse(text) as { services?: object }).services ?? {})
    if (service === undefined || services.includes(service)) out.push(part.project)
  }
  return out
}

/**
 * What `compose` addresses: a colour's project with the file it was last applied with (`live` and `idle`
 * resolved from the records), or without a colour the stateful project with its generated file — never the
 * operator's files, which also hold the colour services and would start them in the wrong project. Falls back
 * to the operator's files when nothing was applied yet.
 */
export async function composeProject(e: Env, choice: ColourChoice | undefined): Promise<ComposeProject> {
  const state = await readColours(e.target.state, e.env.name)
  if (choice === undefined) {
    return (await access(statefulFile(e)).then(() => true, () => false)) ? statefulProject(e) : sourceProject(e, e.env)
  }
  const colour = choice === 'live' ? state.live : choice === 'idle' ? (state.live ? otherColour(state.live) : undefined) : choice
  const slot = colour ? state[colour] : undefined
  if (!colour || !slot) {
    throw new UsageError(
      `the ${choice} colour of ${e.env.name} holds no release${state.live ? ` (live: ${state.live})` : ' (nothing is live yet)'}`,
      `See: berth status ${e.env.name}`,
    )
  }
  return colourFileProject(e, colour)
}
