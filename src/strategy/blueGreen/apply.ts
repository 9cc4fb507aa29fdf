import { access, readFile } from 'node:fs/promises'

import { type ComposeProject, composeDown, composeStart, composeStop, composeUp } from '../../docker/compose.js'
import { psByLabels } from '../../docker/docker.js'
import { parsePs } from '../../docker/parse.js'
import { parse, stringify } from 'yaml'

import { ensureEdge, refuseDamagedEdge, refuseNotRoot, removeRoutes, switchRoutes } from '../../edge/edge.js'
import type { EdgeRoute } from '../../edge/caddy.js'
import { NeedsPersonError, RolledBackError, UsageError } from '../../errors.js'
import { type Env, envProbes, healthPlan, recordedModel, reportFailure, waitFor } from '../../health/gate.js'
import {
  allocateUpstreams,
  colourModel,
  probesForColour,
  splitConfig,
  statefulModel,
  upstreamKey,
} from './colours.js'
import type { Config, EnvironmentConfig } from '../../config/types.js'
import { type ComposeModel } from '../../release/model.js'
import { poolNetworks } from '../../preflight/addressPools.js'
import { type Deps, projectContainers, fileProject, sourceProject } from '../../run/context.js'
import { parsePublished } from '../../preflight/preflight.js'
import { keepUnchangedStateful } from './stateful.js'
import { type ReleaseRecord } from '../../state/releases.js'
import { readOrDamaged } from '../../state/damage.js'
import { writeFileAtomic } from '../../state/files.js'
import { type Colour, colourProject, LABEL, otherColour } from '../../names.js'
import { colourFile as colourFileOf, configPath, environmentPaths, environmentsWithState } from '../../state/paths.js'
import { readColours, writeColours } from '../../state/colours.js'

/**
 * SPEC §9 blue-green, for deploy and rollback alike: bring the release up in the idle colour beside the
 * live one (or start the idle colour when it already holds the release, stopped-warm), wait for it
 * directly, switch this environment's routes on the edge, verify through the edge, let the old colour
 * drain and stop it without removing it. Anything failing before the switch removes the new colour: the
 * live one never stopped serving.
 */
export interface BlueGreenResult {
  ok: true
  configHashes: Record<string, string>
  colour: Colour
  /** What the stateful services run, which may be an earlier release's unchanged definition. */
  stateful: { images: Record<string, string>; releases: Record<string, string> }
}

/** Throws RolledBackError (exit 3) or NeedsPersonError (exit 4) when the new colour does not take over. */
export async function applyBlueGreen(deps: Deps, e: Env, record: Pick<ReleaseRecord, 'tag' | 'configFile'>): Promise<BlueGreenResult> {
  const { config, env } = e
  const state = await readColours(config.stateDir, env.name)
  const live = state.live
  const colour: Colour = live ? otherColour(live) : 'blue'
  const project = colourProject(env, colour)
  const model = await recordedModel(e, record)

  // Both colours' ports are settled here, so the edge's routes (which hold both) stay the same from one
  // deploy to the next, and a switch never has to change its config (see edge/caddy.ts).
  const other = otherColour(colour)
  // Ports already allocated stay as they are: the host's ports are read only when a route needs new ones.
  const allocated = env.routes.every((r) => state.upstreams.blue[upstreamKey(r)] !== undefined && state.upstreams.green[upstreamKey(r)] !== undefined)
  const taken = allocated ? new Set<number>() : await takenPorts(deps, config.stateDir, env)
  const upstreams = allocateUpstreams(config.app, env, colour, state.upstreams[colour], new Set([...taken, ...Object.values(state.upstreams[other])]))
  state.upstreams[colour] = upstreams
  state.upstreams[other] = allocateUpstreams(config.app, env, other, state.upstreams[other], new Set([...taken, ...Object.values(upstreams)]))
  const split = await splitRelease(e, record, colour, upstreams)
  const colourTarget = await writeColourFile(e, colour, record.tag, split.colour)

  // The idle colour still holds this release, stopped: start it as it was — no build, no pull, no new config.
  // Same recorded config, not just the same tag: `rollback --images-only` must apply today's config.
  const warm = state[colour]?.configFile === record.configFile && (await projectContainers(deps, project)).length > 0
  if (split.stateful && !warm) {
    const current = await readFile(statefulFile(e), 'utf8').catch(() => undefined)
    const stateful = await keepUnchangedStateful(deps, split.stateful, current)
    if (stateful.kept.length) deps.reporter.info(`${env.name}: ${stateful.kept.join(', ')} unchanged: left running as they are`)
    await writeFileAtomic(statefulFile(e), `# berth ${env.name} stateful services (applied with release ${record.tag})\n${stateful.yaml}`)
    await deps.reporter.step(`apply ${record.tag} stateful services to ${env.project}`, () => deps.run(composeUp(statefulTarget(e))))
    const statefulReady = await waitFor(deps, record.tag, env.project, healthPlan(e, statefulModel(model, env), []))
    if (!statefulReady.ok) {
      await reportFailure(deps, e, record, statefulReady.failure, statefulTarget(e))
      throw new NeedsPersonError(
        `${env.name}: the stateful services of ${record.tag} are not healthy (${statefulReady.failure.check}: ${statefulReady.failure.lastError})`,
        `Both colours depend on them. See: berth status ${env.name}; berth logs ${env.name}`,
      )
    }
  }

  await deps.reporter.step(`${warm ? 'start the warm' : 'apply'} ${colour} colour of ${env.name} (${record.tag})`, () =>
    deps.run(warm ? composeStart(colourTarget) : composeUp(colourTarget)),
  )
  const ready = await waitFor(deps, record.tag, project, healthPlan(e, colourModel(model, env), probesForColour(envProbes(e), env, upstreams)))
  if (!ready.ok) {
    await reportFailure(deps, e, record, ready.failure, colourTarget)
    await removeColour(deps, colourTarget)
    state[colour] = undefined
    await writeColours(config.stateDir, env.name, state)
    if (!live) {
      throw new NeedsPersonError(`${env.name} ${record.tag} is not healthy (${ready.failure.check}: ${ready.failure.lastError}) and nothing was live before it`, `Fix it and deploy again: berth logs ${env.name}`)
    }
    throw new RolledBackError(
      `${env.name} ${record.tag} is not healthy (${ready.failure.check}: ${ready.failure.lastError}); the ${colour} colour was removed and ${live} kept serving ${state[live]?.tag ?? ''}`.trimEnd(),
      `The routes never changed. Fix and deploy again; the failed release stays recorded: berth releases ${env.name}`,
    )
  }

  const routes = routesTo(e, state.upstreams)
  const edge = await deps.reporter.step(`switch ${env.name} routes to ${colour}`, async () => {
    const running = await ensureEdge(deps, config.edge, config.stateDir)
    await switchRoutes(deps, running, config.app, env.name, colour, routes)
    return running
  })
  const throughEdge = await verifyThroughEdge(deps, e)
  if (throughEdge) {
    deps.reporter.warn(`${env.name}: ${throughEdge}`)
    if (live) {
      await switchRoutes(deps, edge, config.app, env.name, live, routes)
      await removeColour(deps, colourTarget)
      state[colour] = undefined
      await writeColours(config.stateDir, env.name, state)
      throw new RolledBackError(`${env.name} ${record.tag} did not answer through the edge (${throughEdge}); routes switched back to ${live}`, `Check the routes in deploy.yml: berth status ${env.name}`)
    }
    throw new NeedsPersonError(`${env.name} ${record.tag} does not answer through the edge: ${throughEdge}`, `Check the routes in deploy.yml and the edge: berth doctor`)
  }

  state.live = colour
  state[colour] = { tag: record.tag, configFile: record.configFile }
  await writeColours(config.stateDir, env.name, state)

  if (live) {
    await deps.reporter.step(`drain and stop the ${live} colour of ${env.name}`, async (update) => {
      await deps.sleep(env.drainMs)
      const liveSlot = state[live]
      try {
        const liveSplit = liveSlot ? await splitRelease(e, liveSlot, live, state.upstreams[live]) : undefined
        if (liveSplit && liveSlot) await deps.run(composeStop(await writeColourFile(e, live, liveSlot.tag, liveSplit.colour)))
      } catch (error) {
        // The switch is done and recorded: an old colour left running costs memory, not availability.
        update(`could not stop ${colourProject(env, live)}: ${error instanceof Error ? error.message : String(error)}`)
        deps.reporter.warn(`${colourProject(env, live)} is still running; stop it with: docker compose -p ${colourProject(env, live)} stop`)
      }
    })
  }
  const stateful = await statefulFacts(deps, e)
  return { ok: true, configHashes: { ...stateful.hashes, ...ready.configHashes }, colour, stateful: { images: stateful.images, releases: stateful.releases } }
}

/**
 * Networks the next deploy of a blue-green environment takes from the engine's pools: those of the stateful
 * project and of the colour it would bring up (each colour has its own when nothing is stateful).
 */
export async function plannedNetworks(e: Env, model: ComposeModel): Promise<string[]> {
  const { live } = await readColours(e.config.stateDir, e.env.name)
  const colour: Colour = live ? otherColour(live) : 'blue'
  const split = splitConfig(stringify(model), e.env, colour, {})
  return [
    ...(split.stateful ? poolNetworks(parse(split.stateful) as ComposeModel, e.env.project) : []),
    ...poolNetworks(parse(split.colour) as ComposeModel, colourProject(e.env, colour)),
  ]
}

/** The stateful project as it runs now: its services' images, releases and config hashes, for the record. */
async function statefulFacts(deps: Deps, e: Env) {
  const images: Record<string, string> = {}
  const releases: Record<string, string> = {}
  const hashes: Record<string, string> = {}
  const text = await readFile(statefulFile(e), 'utf8').catch(() => undefined)
  const doc = text ? (parse(text) as { services?: Record<string, { image?: string; labels?: Record<string, string> }> }) : undefined
  for (const [name, svc] of Object.entries(doc?.services ?? {})) {
    if (svc.image) images[name] = svc.image
    const release = svc.labels?.[LABEL.release]
    if (release) releases[name] = release
  }
  for (const c of await projectContainers(deps, e.env.project)) {
    const hash = c.labels['com.docker.compose.config-hash']
    if (c.service && hash) hashes[c.service] = hash
  }
  return { images, releases, hashes }
}

async function splitRelease(e: Env, record: Pick<ReleaseRecord, 'configFile'>, colour: Colour, upstreams: Record<string, number>) {
  return splitConfig(await readFile(configPath(e.config.stateDir, e.env.name, record.configFile), 'utf8'), e.env, colour, upstreams)
}

/** The generated compose files of a blue-green environment (in .berth/<env>/work): the stateful project's and each colour's. */
function statefulFile(e: Env): string {
  return environmentPaths(e.config.stateDir, e.env.name).statefulFile
}

function statefulTarget(e: Env): ComposeProject {
  return fileProject(e, e.env, e.env.project, statefulFile(e))
}

function colourFile(e: Env, colour: Colour): string {
  return colourFileOf(e.config.stateDir, e.env.name, colour)
}

async function writeColourFile(e: Env, colour: Colour, tag: string, content: string) {
  const file = colourFile(e, colour)
  await writeFileAtomic(file, `# berth ${e.env.name} release ${tag}, ${colour}\n${content}`)
  return fileProject(e, e.env, colourProject(e.env, colour), file)
}

/** The environment's routes as the edge holds them: each to its upstream in both colours. */
function routesTo(e: Env, upstreams: Record<Colour, Record<string, number>>): EdgeRoute[] {
  const dial = (c: Colour, r: (typeof e.env.routes)[number]) => `127.0.0.1:${upstreams[c][upstreamKey(r)]}`
  return e.env.routes.map((r) => ({ listen: r.listen, ...(r.host ? { host: r.host } : {}), upstreams: { blue: dial('blue', r), green: dial('green', r) } }))
}

/** The probes of routed ports, sent through the edge now that it points at the new colour; undefined when all answer. */
async function verifyThroughEdge(deps: Deps, e: Env): Promise<string | undefined> {
  for (const probe of envProbes(e)) {
    const port = new URL(probe.url).port
    const route = e.env.routes.find((r) => String(r.listen) === port)
    if (!route) continue
    let last = ''
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await deps.probe(route.host ? { ...probe, host: route.host } : probe)
      if (result.ok) {
        last = ''
        break
      }
      last = `${probe.url}: ${result.detail}`
      await deps.sleep(200)
    }
    if (last) return last
  }
  return undefined
}

async function removeColour(deps: Deps, target: Parameters<typeof composeDown>[0]): Promise<void> {
  await deps.run(composeDown(target, { volumes: false }), { allowFailure: true })
}

/**
 * Host ports in use now, plus every upstream another environment of this state directory has allocated;
 * this environment's own colours are left out, as their ports are theirs to keep. Another environment's
 * damaged colour state is skipped with a warning (its running colours' ports are still seen as in use).
 */
async function takenPorts(deps: Deps, stateDir: string, env: EnvironmentConfig): Promise<Set<number>> {
  const taken = new Set<number>()
  for (const name of await environmentsWithState(stateDir)) {
    if (name === env.name) continue
    const read = await readOrDamaged(readColours(stateDir, name))
    if (!read.ok) {
      deps.reporter.warn(`the upstream ports of ${name} are unknown (${read.damaged.file} is damaged); ${env.name}'s new ones avoid the ports in use now`)
      continue
    }
    for (const c of ['blue', 'green'] as const) for (const port of Object.values(read.value.upstreams[c])) taken.add(port)
  }
  const own = new Set([colourProject(env, 'blue'), colourProject(env, 'green')])
  const { stdout } = await deps.run(psByLabels(deps.target.engine, []))
  for (const c of parsePs(stdout)) {
    if (!c.project || !own.has(c.project)) for (const p of parsePublished(c.ports)) taken.add(p.port)
  }
  return taken
}

/**
 * Preflight of deploy, rollback and down (SPEC §5): a blue-green run that could not reach the edge's
 * root-only admin API, or whose edge state berth cannot make sense of, is refused before anything changes
 * (exit 2) rather than failing, or overwriting that state, at the switch.
 */
export async function edgePreflight(deps: Deps, config: Config, env: EnvironmentConfig): Promise<void> {
  if (env.strategy !== 'blue-green') return
  refuseNotRoot(process.getuid?.())
  await refuseDamagedEdge(deps, config.app, env.name)
}

/** For `down`: removes both colours and this environment's routes; the stateful project is left to the caller. */
export async function downColours(deps: Deps, e: Env, volumes: boolean): Promise<void> {
  const { config, env } = e
  const state = await readColours(config.stateDir, env.name)
  for (const colour of ['blue', 'green'] as const) {
    const slot = state[colour]
    if (!slot) continue
    const split = await splitRelease(e, slot, colour, state.upstreams[colour])
    await deps.run(composeDown(await writeColourFile(e, colour, slot.tag, split.colour), { volumes }))
  }
  if (state.live) await removeRoutes(deps, config.edge, config.stateDir, config.app, env.name)
  await writeColours(config.stateDir, env.name, { upstreams: state.upstreams })
}

/** What status shows of a blue-green environment, from berth's own records (no call to the edge). */
export interface ColourStatus {
  live?: Colour
  idle?: { colour: Colour; release: string }
  routes: { listen: number; host?: string; service: string; port: number; upstream?: string }[]
}

export async function colourStatus(stateDir: string, env: EnvironmentConfig): Promise<ColourStatus> {
  const state = await readColours(stateDir, env.name)
  const idleColour = state.live ? otherColour(state.live) : undefined
  const idleSlot = idleColour ? state[idleColour] : undefined
  return {
    ...(state.live ? { live: state.live } : {}),
    ...(idleColour && idleSlot ? { idle: { colour: idleColour, release: idleSlot.tag } } : {}),
    routes: env.routes.map((r) => {
      const port = state.live ? state.upstreams[state.live][upstreamKey(r)] : undefined
      return { listen: r.listen, ...(r.host ? { host: r.host } : {}), service: r.service, port: r.port, ...(port ? { upstream: `${state.live} 127.0.0.1:${port}` } : {}) }
    }),
  }
}

/**
 * What `logs` reads of a blue-green environment: the stateful project and the live colour, each with the
 * compose file it was last applied with, and the services each runs.
 */
export async function servingTargets(e: Env): Promise<{ target: ComposeProject; services: string[] }[]> {
  const state = await readColours(e.config.stateDir, e.env.name)
  const parts: { project: string; file: string }[] = [{ project: e.env.project, file: statefulFile(e) }]
  if (state.live) parts.push({ project: colourProject(e.env, state.live), file: colourFile(e, state.live) })
  const out: { target: ComposeProject; services: string[] }[] = []
  for (const part of parts) {
    const text = await readFile(part.file, 'utf8').catch(() => undefined)
    if (text === undefined) continue
    out.push({ target: fileProject(e, e.env, part.project, part.file), services: Object.keys((parse(text) as { services?: object }).services ?? {}) })
  }
  return out
}

export type ColourChoice = Colour | 'live' | 'idle'

/**
 * What `compose` addresses in a blue-green environment: a colour's project with the file it was last
 * applied with (`live` and `idle` resolved from the records), or without a colour the stateful project with
 * its generated file — never the operator's files, which also hold the colour services and would start
 * them in the wrong project. Falls back to the operator's files when nothing was applied yet.
 */
export async function blueGreenComposeTarget(e: Env, choice: ColourChoice | undefined): Promise<ComposeProject> {
  const state = await readColours(e.config.stateDir, e.env.name)
  if (choice === undefined) {
    return (await access(statefulFile(e)).then(() => true, () => false)) ? statefulTarget(e) : sourceProject(e, e.env)
  }
  const colour = choice === 'live' ? state.live : choice === 'idle' ? (state.live ? otherColour(state.live) : undefined) : choice
  const slot = colour ? state[colour] : undefined
  if (!colour || !slot) {
    throw new UsageError(
      `the ${choice} colour of ${e.env.name} holds no release${state.live ? ` (live: ${state.live})` : ' (nothing is live yet)'}`,
      `See: berth status ${e.env.name}`,
    )
  }
  return fileProject(e, e.env, colourProject(e.env, colour), colourFile(e, colour))
}
