import { readFile } from 'node:fs/promises'

import { parse } from 'yaml'

import type { EnvironmentConfig, HttpProbe } from '../../config/types.js'
import { type ComposeProject, composeDown, composeStart, composeStop, composeUp } from '../../docker/compose.js'
import { psByLabels } from '../../docker/docker.js'
import { type Container, parsePs } from '../../docker/parse.js'
import type { EdgeRoute } from '../../edge/caddy.js'
import { type Edge, ensureEdge } from '../../edge/lifecycle.js'
import { readMaintenance } from '../../edge/maintenance.js'
import { switchRoutes } from '../../edge/routes.js'
import { NeedsPersonError, RolledBackError } from '../../errors.js'
import { type Env, envProbes, healthPlan, recordedModel, reportFailure, waitFor } from '../../health/gate.js'
import { type Colour, colourProject, COLOURS, COMPOSE_LABEL, LABEL, otherColour } from '../../names.js'
import type { ComposeModel } from '../../release/model.js'
import { type Deps, projectContainers } from '../../run/context.js'
import { type ColourState, readColours, writeColours } from '../../state/colours.js'
import { readOrDamaged } from '../../state/damage.js'
import { localFiles } from '../../target/files.js'
import { environmentsWithState } from '../../state/paths.js'
import type { ReleaseRecord } from '../../state/releases.js'
import type { Applied, ApplyOptions } from '../strategy.js'
import { allocateUpstreams, colourModel, probesForColour, statefulModel, upstreamKey, upstreamRange } from './colours.js'
import { splitRelease, statefulFile, statefulProject, writeColourFile } from './files.js'
import { keepUnchangedStateful } from './stateful.js'
import { parsePublished } from '../../inspect/hostPorts.js'
import { withNetworkPool } from '../../preflight/networkPool.js'

/** The engine host's ephemeral port range: upstream ports are allocated outside it. */
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range'

/**
 * SPEC §9 blue-green, for deploy and rollback alike: bring the release up in the idle colour beside the
 * live one (or start the idle colour when it already holds the release, stopped-warm), wait for it
 * directly, switch this environment's routes on the edge, verify through the edge, let the old colour
 * drain and stop it without removing it. Anything failing before the switch removes the new colour: the
 * live one never stopped serving. Throws RolledBackError (exit 3) or NeedsPersonError (exit 4) when the new
 * colour does not take over.
 */
export async function applyBlueGreen(deps: Deps, e: Env, record: Pick<ReleaseRecord, 'tag' | 'configFile'>, options: Pick<ApplyOptions, 'beforeReapply' | 'watching'> = {}): Promise<Applied> {
  const state = await readColours(e.target.state, e.env.name)
  const live = state.live
  const colour: Colour = live ? otherColour(live) : 'blue'
  // The idle colour still holds this release, stopped: start it as it was — no build, no pull, no new config.
  // Same recorded config, not just the same tag: `rollback --images-only` must apply today's config. Its one
  // read goes out now, while the record is parsed and split (the instant rollback's path).
  const idleRead = state[colour]?.configFile === record.configFile ? projectContainers(deps, colourProject(e.env, colour)) : Promise.resolve([])
  idleRead.catch(() => undefined)
  const model = await recordedModel(e, record)
  await settleUpstreams(deps, e, state, colour)
  const split = await splitRelease(e, record, colour, state.upstreams[colour], model)
  const colourTarget = await writeColourFile(e, colour, record.tag, split.colour)
  const idle = await idleRead
  const warm = idle.length > 0
  if (warm && live && e.env.idle === 'running') {
    const switched = await switchToRunning(deps, e, { record, model, state, colour, target: colourTarget, warm }, live, idle, options.watching === true)
    if (switched) return switched
  }
  await options.beforeReapply?.()
  if (split.stateful && !warm) await applyStateful(deps, e, record, model, split.stateful)
  const hashes = await bringUpColour(deps, e, { record, model, state, colour, target: colourTarget, warm })
  await switchToColour(deps, e, state, colour, colourTarget, record.tag)

  state.live = colour
  state[colour] = { tag: record.tag, configFile: record.configFile }
  await writeColours(e.target.state, e.env.name, state)
  if (live && !keptForWatch(e, options.watching === true)) await stopOldColour(deps, e, state, live)
  const stateful = await statefulFacts(deps, e)
  return { configHashes: { ...stateful.hashes, ...hashes }, record: { colour, images: stateful.images, serviceReleases: stateful.releases } }
}

/**
 * SPEC §9 instant rollback (`idle: running`): the idle colour's routed services still run the release, so
 * they are checked from the one read of its containers the caller made (`idle`: each routed service's
 * containers running, and healthy where they have a healthcheck), probed on its own upstreams, and switched
 * to. Only then are its other services (stopped while idle) started, and the whole colour waited for; if
 * they do not become healthy, the routes go back to the previous colour, whose routed services never
 * stopped, and its own others are started again (exit 3). Undefined, with nothing changed, when the colour
 * cannot take traffic as it runs: the caller then starts it as a warm colour.
 */
async function switchToRunning(deps: Deps, e: Env, up: ColourUp, live: Colour, idle: readonly Container[], watching: boolean): Promise<Applied | undefined> {
  const { env } = e
  const { record, state, colour, target } = up
  const routed = [...new Set(env.routes.map((r) => r.service))]
  const notReady = routed.flatMap((service) => {
    const mine = idle.filter((c) => c.service === service)
    if (mine.length === 0) return [`${service} has no container`]
    return mine.filter((c) => c.state !== 'running' || (c.health !== '' && c.health !== 'healthy')).map((c) => `${c.name} is ${c.state}${c.health ? ` (${c.health})` : ''}`)
  })
  const probes = probesForColour(envProbes(e), env, state.upstreams[colour])
  const probed = notReady.length ? [] : await Promise.all(probes.map(async (p) => ({ url: p.url, result: await deps.probe(p) })))
  const failing = [...notReady, ...probed.filter((p) => !p.result.ok).map((p) => `${p.url}: ${p.result.ok ? '' : p.result.detail}`)]
  if (failing.length) {
    deps.reporter.info(`${env.name}: the idle ${colour} colour cannot take traffic as it runs (${failing.join('; ')}): starting it first`)
    return undefined
  }
  await switchToColour(deps, e, state, colour, target, record.tag)
  state.live = colour
  state[colour] = { tag: record.tag, configFile: record.configFile }
  await writeColours(e.target.state, env.name, state)

  // Traffic is on the release: now its workers, then the whole colour's health, as any deploy waits for it.
  await deps.reporter.step(`start the rest of the ${colour} colour of ${env.name} (${record.tag})`, () => deps.run(composeStart(target)))
  const plan = healthPlan(e, colourModel(up.model, env), probes)
  const ready = await waitFor(deps, record.tag, colourProject(env, colour), plan)
  if (!ready.ok) {
    await reportFailure(deps, e, record, ready.failure, target)
    await switchBack(deps, e, state, live)
    throw new RolledBackError(
      `${env.name} ${record.tag} is not healthy once all of it runs (${ready.failure.check}: ${ready.failure.lastError}); routes switched back to ${live}, which serves ${state[live]?.tag ?? ''} again`.trimEnd(),
      `The ${colour} colour is left as it is for a look: berth logs ${env.name} --colour ${colour}`,
    )
  }
  if (!keptForWatch(e, watching)) await stopOldColour(deps, e, state, live)
  const stateful = await statefulFacts(deps, e)
  return { configHashes: { ...stateful.hashes, ...ready.configHashes }, record: { colour, images: stateful.images, serviceReleases: stateful.releases } }
}

/**
 * Whether the old colour is left as it is after the switch, for the watch that follows: with `idle: stopped` it
 * would stop its routed services too, which a switch back needs at once. With `idle: running` it stops only its
 * workers, as always (old code never consumes jobs, not even inside the window); a switch back starts them.
 */
export function keptForWatch(e: Env, watching: boolean): boolean {
  return watching && e.env.idle === 'stopped'
}

/** Routes back to `to`, whose routed services kept running, and its other services started again; recorded live. */
export async function switchBack(deps: Deps, e: Env, state: ColourState, to: Colour): Promise<void> {
  const { config, env } = e
  await deps.reporter.step(`switch ${env.name} routes back to ${to}`, async () => {
    const edge = await ensureEdge(deps, config.edge, config.stateDir)
    await switchRoutes(deps, edge, config.app, env.name, to, routesTo(e, state.upstreams))
  })
  state.live = to
  await writeColours(e.target.state, env.name, state)
  const slot = state[to]
  if (!slot) return
  const split = await splitRelease(e, slot, to, state.upstreams[to])
  const target = await writeColourFile(e, to, slot.tag, split.colour)
  await deps.reporter.step(`start the rest of the ${to} colour of ${env.name} again`, () => deps.run(composeStart(target)))
}

/**
 * Both colours' ports are settled at once, so the edge's routes (which hold both) stay the same from one deploy
 * to the next, and a switch never has to change its config (see edge/caddy.ts). Ports already allocated stay
 * as they are: the host's ports are read only when a route needs new ones.
 */
async function settleUpstreams(deps: Deps, e: Env, state: ColourState, colour: Colour): Promise<void> {
  const { config, env } = e
  const other = otherColour(colour)
  const allocated = env.routes.every((r) => state.upstreams.blue[upstreamKey(r)] !== undefined && state.upstreams.green[upstreamKey(r)] !== undefined)
  if (allocated) return
  const [taken, ephemeral] = await Promise.all([takenPorts(deps, env), deps.target.host.files.read(EPHEMERAL_RANGE_FILE)])
  const range = upstreamRange(ephemeral)
  const upstreams = allocateUpstreams(config.app, env, colour, state.upstreams[colour], new Set([...taken, ...Object.values(state.upstreams[other])]), range)
  state.upstreams[colour] = upstreams
  state.upstreams[other] = allocateUpstreams(config.app, env, other, state.upstreams[other], new Set([...taken, ...Object.values(upstreams)]), range)
}

/** Updates the shared stateful project in place; a stateful service unchanged but for the release tag keeps running. */
async function applyStateful(deps: Deps, e: Env, record: Pick<ReleaseRecord, 'tag' | 'configFile'>, model: ComposeModel, yaml: string): Promise<void> {
  const { env } = e
  const current = await readFile(statefulFile(e), 'utf8').catch(() => undefined)
  const stateful = await keepUnchangedStateful(deps, yaml, current)
  if (stateful.kept.length) deps.reporter.info(`${env.name}: ${stateful.kept.join(', ')} unchanged: left running as they are`)
  await localFiles.writeAtomic(statefulFile(e), `# berth ${env.name} stateful services (applied with release ${record.tag})\n${stateful.yaml}`)
  await deps.reporter.step(`apply ${record.tag} stateful services to ${env.project}`, async () => deps.run(composeUp(await withNetworkPool(deps, e.config.networkPool, env.name, statefulProject(e)))))
  const ready = await waitFor(deps, record.tag, env.project, healthPlan(e, statefulModel(model, env), []))
  if (ready.ok) return
  await reportFailure(deps, e, record, ready.failure, statefulProject(e))
  throw new NeedsPersonError(
    `${env.name}: the stateful services of ${record.tag} are not healthy (${ready.failure.check}: ${ready.failure.lastError})`,
    `Both colours depend on them. See: berth status ${env.name}; berth logs ${env.name}`,
  )
}

interface ColourUp {
  record: Pick<ReleaseRecord, 'tag' | 'configFile'>
  model: ComposeModel
  state: ColourState
  colour: Colour
  target: ComposeProject
  warm: boolean
}

/** Starts (warm) or applies the new colour and waits for it, probed on its own upstreams; a colour that is not healthy is removed. */
async function bringUpColour(deps: Deps, e: Env, up: ColourUp): Promise<Record<string, string>> {
  const { env } = e
  const { record, state, colour, target } = up
  await deps.reporter.step(`${up.warm ? 'start the warm' : 'apply'} ${colour} colour of ${env.name} (${record.tag})`, async () =>
    deps.run(up.warm ? composeStart(target) : composeUp(await withNetworkPool(deps, e.config.networkPool, env.name, target))),
  )
  const plan = healthPlan(e, colourModel(up.model, env), probesForColour(envProbes(e), env, state.upstreams[colour]))
  const ready = await waitFor(deps, record.tag, colourProject(env, colour), plan)
  if (ready.ok) return ready.configHashes
  await reportFailure(deps, e, record, ready.failure, target)
  await removeColour(deps, target)
  state[colour] = undefined
  await writeColours(e.target.state, env.name, state)
  const why = `${ready.failure.check}: ${ready.failure.lastError}`
  if (!state.live) throw new NeedsPersonError(`${env.name} ${record.tag} is not healthy (${why}) and nothing was live before it`, `Fix it and deploy again: berth logs ${env.name}`)
  throw new RolledBackError(
    `${env.name} ${record.tag} is not healthy (${why}); the ${colour} colour was removed and ${state.live} kept serving ${state[state.live]?.tag ?? ''}`.trimEnd(),
    `The routes never changed. Fix and deploy again; the failed release stays recorded: berth releases ${env.name}`,
  )
}

/** Switches this environment's routes on the edge, then checks the probes through it; a new colour that does not answer there is switched away from and removed. */
async function switchToColour(deps: Deps, e: Env, state: ColourState, colour: Colour, colourTarget: ComposeProject, tag: string): Promise<void> {
  const { config, env } = e
  const routes = routesTo(e, state.upstreams)
  const edge: Edge = await deps.reporter.step(`switch ${env.name} routes to ${colour}`, async () => {
    const running = await ensureEdge(deps, config.edge, config.stateDir)
    await switchRoutes(deps, running, config.app, env.name, colour, routes)
    return running
  })
  // In maintenance every route answers the page: probes through the edge would fail a healthy colour.
  if (await readMaintenance(edge.files, edge.liveDir, config.app, env.name)) {
    deps.reporter.info(`${env.name} is in maintenance: its routes answer the maintenance page, so the probes through the edge are skipped; ${tag} serves once it is off (berth maintenance ${env.name} off)`)
    return
  }
  const throughEdge = await verifyThroughEdge(deps, e)
  if (!throughEdge) return
  deps.reporter.warn(`${env.name}: ${throughEdge}`)
  const live = state.live
  if (!live) throw new NeedsPersonError(`${env.name} ${tag} does not answer through the edge: ${throughEdge}`, `Check the routes in deploy.yml and the edge: berth doctor`)
  await switchRoutes(deps, edge, config.app, env.name, live, routes)
  await removeColour(deps, colourTarget)
  state[colour] = undefined
  await writeColours(deps.target.state, env.name, state)
  throw new RolledBackError(`${env.name} ${tag} did not answer through the edge (${throughEdge}); routes switched back to ${live}`, `Check the routes in deploy.yml: berth status ${env.name}`)
}

/**
 * Lets the old colour drain, then stops it, kept for a rollback: with `idle: running` only its services no route
 * reaches (workers, schedulers: old code must not consume jobs), so that its routed ones can serve again at
 * once; with `idle: stopped` all of it. A failure here is a warning: the switch is done and recorded.
 */
export async function stopOldColour(deps: Deps, e: Env, state: ColourState, old: Colour): Promise<void> {
  const project = colourProject(e.env, old)
  const slot = state[old]
  const split = slot ? await splitRelease(e, slot, old, state.upstreams[old]) : undefined
  const routed = new Set(e.env.routes.map((r) => r.service))
  const services = Object.keys((parse(split?.colour ?? '') as { services?: Record<string, unknown> } | null)?.services ?? {})
  const toStop = e.env.idle === 'running' ? services.filter((s) => !routed.has(s)) : services
  if (slot && e.env.idle === 'running' && toStop.length === 0) {
    deps.reporter.info(`${project} stays running, idle: a rollback to ${slot.tag} is a switch`)
    return
  }
  // Its routed services keep running with idle: running: nothing drains, the workers just stop.
  const what = e.env.idle === 'running' ? `stop ${toStop.join(', ')} of` : 'drain and stop'
  await deps.reporter.step(`${what} the ${old} colour of ${e.env.name}`, async (update) => {
    if (e.env.idle === 'stopped') await deps.sleep(e.env.drainMs)
    try {
      if (slot && split) {
        const target = await writeColourFile(e, old, slot.tag, split.colour)
        await deps.run(composeStop(target, e.env.idle === 'running' ? toStop : []))
      }
    } catch (error) {
      // An old colour left running costs memory, not availability.
      update(`could not stop ${project}: ${error instanceof Error ? error.message : String(error)}`)
      deps.reporter.warn(`${project} is still running; stop it with: docker compose -p ${project} stop`)
    }
  })
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
    const hash = c.labels[COMPOSE_LABEL.configHash]
    if (c.service && hash) hashes[c.service] = hash
  }
  return { images, releases, hashes }
}

/** The environment's routes as the edge holds them: each to its upstream in both colours. */
function routesTo(e: Env, upstreams: Record<Colour, Record<string, number>>): EdgeRoute[] {
  const dial = (c: Colour, r: (typeof e.env.routes)[number]) => `127.0.0.1:${upstreams[c][upstreamKey(r)]}`
  return e.env.routes.map((r) => ({ listen: r.listen, ...(r.host ? { host: r.host } : {}), ...(r.tls !== 'off' ? { tls: r.tls } : {}), upstreams: { blue: dial('blue', r), green: dial('green', r) } }))
}

/** The probes of routed ports, as sent through the edge (with the route's Host). */
export function edgeProbes(e: Env): HttpProbe[] {
  return envProbes(e).flatMap((probe) => {
    const url = new URL(probe.url)
    const route = e.env.routes.find((r) => String(r.listen) === url.port || (url.port === '' && r.tls !== 'off' && r.listen === 443 && url.protocol === 'https:'))
    if (!route) return []
    if (route.tls === 'off') return [route.host ? { ...probe, host: route.host } : probe]
    // tls: auto's certificate comes from a public CA, maybe minutes after the route is written: the edge cannot be asked before it has one.
    if (route.tls === 'auto' || !route.host) return []
    // The edge on the engine's host, over HTTPS with the route's host as SNI and Host, whatever name the URL gives.
    url.protocol = 'https:'
    url.hostname = '127.0.0.1'
    url.port = String(route.listen)
    return [{ ...probe, url: url.toString(), host: route.host, servername: route.host }]
  })
}

/** The probes of routed ports, sent through the edge now that it points at the new colour; undefined when all answer. */
async function verifyThroughEdge(deps: Deps, e: Env): Promise<string | undefined> {
  for (const probe of edgeProbes(e)) {
    let last = ''
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await deps.probe(probe)
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

export async function removeColour(deps: Deps, target: ComposeProject): Promise<void> {
  await deps.run(composeDown(target, { volumes: false }), { allowFailure: true })
}

/**
 * Host ports in use now, plus every upstream another environment of this state directory has allocated;
 * this environment's own colours are left out, as their ports are theirs to keep. Another environment's
 * damaged colour state is skipped with a warning (its running colours' ports are still seen as in use).
 */
async function takenPorts(deps: Deps, env: EnvironmentConfig): Promise<Set<number>> {
  const taken = new Set<number>()
  for (const name of await environmentsWithState(deps.target.state)) {
    if (name === env.name) continue
    const read = await readOrDamaged(readColours(deps.target.state, name))
    if (!read.ok) {
      deps.reporter.warn(`the upstream ports of ${name} are unknown (${read.damaged.file} is damaged); ${env.name}'s new ones avoid the ports in use now`)
      continue
    }
    for (const c of COLOURS) for (const port of Object.values(read.value.upstreams[c])) taken.add(port)
  }
  const own = new Set(COLOURS.map((c) => colourProject(env, c)))
  const { stdout } = await deps.run(psByLabels(deps.target.engine, []))
  for (const c of parsePs(stdout, deps.target.labels)) {
    if (!c.project || !own.has(c.project)) for (const p of parsePublished(c.ports)) taken.add(p.port)
  }
  return taken
}
