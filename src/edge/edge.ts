import { mkdir, readFile, rm, rmdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { stringify } from 'yaml'

import type { EdgeConfig } from '../config/types.js'
import { type ComposeTarget, composeUp } from '../docker/compose.js'
import { inspectMounts, psByLabels } from '../docker/docker.js'
import { type Container, parsePs } from '../docker/parse.js'
import type { Runner } from '../docker/runner.js'
import type { Deps } from '../deploy/context.js'
import { writeFileAtomic } from '../deploy/stateFiles.js'
import { CaddyAdmin } from './admin.js'
import { type BerthRoute, berthRoutes, type EdgeColour, type EdgeRoute, httpAppSetup, initialConfig, LIVE_ROOT, nextServers } from './caddy.js'
import { EdgeUnavailableError } from './errors.js'
import { isLoopback, listenersOnPort } from './listeners.js'
import { clearLive, readLive, setLive } from './live.js'

/** SPEC §9: one edge per host, shared by every app and environment. */
export const EDGE_PROJECT = 'berth-edge'
export const EDGE_VOLUME = 'berth-edge-data'
export const EDGE_LABEL = 'berth.edge'
const INITIAL_CONFIG = '/etc/berth-edge/initial.json'
const ADMIN_WAIT_MS = 15_000
const COMPOSE_HEADER = '# The edge proxy of this host (SPEC §9), written by berth: changes made here are overwritten.'

/** The edge's files on the host. */
export interface EdgePaths {
  dir: string
  /** The live markers (live.ts), mounted read-only into the edge. */
  live: string
  composeFile: string
  envFile: string
}

/**
 * The edge is one per host, so its files are the host's, not any app's: BERTH_EDGE_DIR, by default
 * /var/lib/berth-edge. Kept out of the apps' state directories, where `<state dir>/edge/` would also be
 * the state of an environment named `edge`. A running edge keeps the directories it was started with, and
 * berth always writes where the running edge looks (edgeLiveDir).
 */
export function edgePaths(env: NodeJS.ProcessEnv = process.env): EdgePaths {
  const dir = resolve(env.BERTH_EDGE_DIR || '/var/lib/berth-edge')
  return { dir, live: join(dir, 'live'), composeFile: join(dir, 'compose.yaml'), envFile: join(dir, 'edge.env') }
}

/**
 * The edge's compose file, a pure function of the edge config. Host networking lets a new listen port be
 * added through the admin API without recreating the container, and keeps the admin API (127.0.0.1) out
 * of reach from anywhere but the host. Caddy autosaves every config change to
 * $XDG_CONFIG_HOME/caddy/autosave.json on the volume and `--resume` loads it at start, so an engine
 * restart brings every route back; `--config` is used only on the very first start, when there is no
 * autosave yet. It carries the admin address, because Caddy 2.6 ignores CADDY_ADMIN. The initial config is
 * inline (compose `configs.content`, Compose >= 2.23.1), so the edge depends on no file of any app's
 * state directory. The live markers' host directory is mounted read-only: only berth on the host writes it.
 */
export function edgeComposeFile(edge: EdgeConfig, liveDir: string): string {
  const doc = {
    name: EDGE_PROJECT,
    services: {
      caddy: {
        image: edge.image,
        network_mode: 'host',
        restart: 'unless-stopped',
        command: ['caddy', 'run', '--resume', '--config', INITIAL_CONFIG],
        environment: { XDG_CONFIG_HOME: '/data/config', XDG_DATA_HOME: '/data/data' },
        volumes: [`${EDGE_VOLUME}:/data`, { type: 'bind', source: liveDir, target: LIVE_ROOT, read_only: true }],
        configs: [{ source: 'initial', target: INITIAL_CONFIG }],
        labels: { [EDGE_LABEL]: 'true' },
      },
    },
    volumes: { [EDGE_VOLUME]: { name: EDGE_VOLUME, labels: { [EDGE_LABEL]: 'true' } } },
    configs: { initial: { content: JSON.stringify(initialConfig(edge.adminPort)) } },
  }
  return `${COMPOSE_HEADER}\n${stringify(doc)}`
}

export function edgeTarget(paths: EdgePaths): ComposeTarget {
  return { project: EDGE_PROJECT, files: [paths.composeFile], envFile: paths.envFile, projectDirectory: paths.dir }
}

/**
 * An earlier berth kept the edge's compose file in `<state dir>/edge/`, where it made `edge` look like an
 * environment with state; those two files go, and the directory with them unless an environment `edge`
 * keeps its own state there.
 */
async function removeLegacyEdgeFiles(stateDir: string): Promise<void> {
  const dir = join(stateDir, 'edge')
  const text = await readFile(join(dir, 'compose.yaml'), 'utf8').catch(() => '')
  if (!text.startsWith(COMPOSE_HEADER)) return
  await rm(join(dir, 'compose.yaml'), { force: true })
  await rm(join(dir, 'edge.env'), { force: true })
  await rmdir(dir).catch(() => undefined)
}

async function edgeContainers(run: Runner): Promise<Container[]> {
  const { stdout } = await run(psByLabels([`com.docker.compose.project=${EDGE_PROJECT}`, `${EDGE_LABEL}=true`]))
  return parsePs(stdout)
}

/**
 * Makes sure the edge runs and its admin API answers with an http app; returns the host directory of its
 * live markers. Starts it (`compose up`) only when its container is not running: a running edge is never
 * recreated by a deploy, so a changed image takes effect only after the operator recreates it.
 */
export async function ensureEdge(deps: Deps, edge: EdgeConfig, stateDir: string): Promise<string> {
  const paths = edgePaths()
  const target = edgeTarget(paths)
  const liveDir = paths.live
  await removeLegacyEdgeFiles(stateDir)
  await writeFileAtomic(target.files[0] as string, edgeComposeFile(edge, liveDir))
  // Given explicitly and empty, so compose never reads a .env it happens to find.
  await writeFileAtomic(target.envFile, '')
  let running = await runningEdge(deps.run)
  if (!running) {
    deps.reporter.info(`starting the edge proxy (compose project ${EDGE_PROJECT}, ${edge.image})`)
    await mkdir(liveDir, { recursive: true, mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      throw new EdgeUnavailableError(
        `cannot create the edge's live directory ${liveDir} (${error.code ?? error.message})`,
        'Blue-green switches write there: run berth as root, or set BERTH_EDGE_DIR to a directory its user can write before the edge is first started.',
      )
    })
    await deps.run(composeUp(target))
    running = await runningEdge(deps.run)
  }
  const admin = new CaddyAdmin(edge.adminPort)
  const config = await waitForAdmin(deps, admin)
  const setup = httpAppSetup(config, edge.adminPort)
  if (setup) await admin.write(setup)
  const mounted = running ? await mountedLiveDir(deps.run, running) : undefined
  if (!mounted) {
    throw new EdgeUnavailableError(
      `the running edge proxy has no live directory mounted at ${LIVE_ROOT}: it was started by an earlier berth`,
      `Recreate it once (every route comes back from its saved config): docker compose -p ${EDGE_PROJECT} -f ${target.files[0]} up -d --force-recreate`,
    )
  }
  return mounted
}

async function runningEdge(run: Runner): Promise<Container | undefined> {
  return (await edgeContainers(run)).find((c) => c.state === 'running')
}

async function mountedLiveDir(run: Runner, container: Container): Promise<string | undefined> {
  const { stdout } = await run(inspectMounts(container.id))
  const mounts = JSON.parse(stdout.trim() || '[]') as { Type?: string; Source?: string; Destination?: string }[]
  return mounts.find((m) => m.Type === 'bind' && m.Destination === LIVE_ROOT)?.Source
}

/** The host directory the running edge mounts at LIVE_ROOT; undefined when no edge runs or it mounts none. */
export async function edgeLiveDir(deps: Pick<Deps, 'run'>): Promise<string | undefined> {
  const running = await runningEdge(deps.run)
  return running ? mountedLiveDir(deps.run, running) : undefined
}

async function waitForAdmin(deps: Deps, admin: CaddyAdmin): Promise<unknown> {
  const deadline = deps.now().getTime() + ADMIN_WAIT_MS
  for (;;) {
    try {
      return (await admin.get('/config/')).value
    } catch (error) {
      if (!(error instanceof EdgeUnavailableError)) throw error
      if (deps.now().getTime() >= deadline) {
        throw new EdgeUnavailableError(
          `the edge proxy's admin API did not answer on ${admin.address} within ${ADMIN_WAIT_MS / 1000} s (${error.message})`,
          `See: docker compose -p ${EDGE_PROJECT} logs caddy. A running edge keeps the admin address it was started with (it resumes its saved config), so edge.admin_port must not change while it runs.`,
        )
      }
      await deps.sleep(250)
    }
  }
}

/**
 * Sends this environment's routes to `colour`. The routes (both colours' upstreams) are written to the
 * edge only when they differ from what it holds, in one atomic change of its servers that touches no other
 * environment's route (CaddyAdmin.updateServers); the switch itself is the marker's rename, so a deploy
 * whose routes did not change never reloads the edge. The marker comes first when there is none yet, so
 * new routes never send a request to the colour that is not live.
 */
export async function switchRoutes(deps: Deps, edge: EdgeConfig, liveDir: string, app: string, env: string, colour: EdgeColour, routes: readonly EdgeRoute[]): Promise<void> {
  if (routes.length === 0) throw new RangeError('switchRoutes needs at least one route; removeRoutes takes them away')
  const first = !(await readLive(liveDir, app, env))
  if (first) await setLive(liveDir, app, env, colour)
  try {
    await new CaddyAdmin(edge.adminPort).updateServers((current) => nextServers(current, app, env, routes), deps.sleep)
  } catch (error) {
    // The edge refused the routes: a marker made just for them would be left pointing at nothing.
    if (first) await clearLive(liveDir, app, env)
    throw error
  }
  await setLive(liveDir, app, env, colour)
}

/** Removes this environment's routes from the edge, then its marker. */
export async function removeRoutes(deps: Deps, edge: EdgeConfig, app: string, env: string): Promise<void> {
  await new CaddyAdmin(edge.adminPort).updateServers((current) => nextServers(current, app, env, []), deps.sleep)
  const liveDir = await edgeLiveDir(deps)
  if (liveDir) await clearLive(liveDir, app, env)
}

/** Every berth route the edge holds now, with its upstream (for status and doctor). */
export async function edgeRoutes(edge: EdgeConfig): Promise<BerthRoute[]> {
  return berthRoutes((await new CaddyAdmin(edge.adminPort).get('/config/')).value)
}

export interface EdgeStatus {
  running: boolean
  container?: { name: string; image: string; state: string; status: string }
  /** Local addresses listening on the admin port (this host's socket tables); empty when none. */
  adminListeners: string[]
  /** Something listens on the admin port and only on loopback. */
  adminLoopbackOnly: boolean
  /** Host directory of the live markers the running edge mounts (undefined when none). */
  liveDir?: string
  /** undefined when the admin API could not be read; `error` says why. */
  routes?: BerthRoute[]
  error?: string
}

/** What doctor checks of the edge: container running, admin API on loopback only, the routes it holds. */
export async function edgeStatus(deps: Pick<Deps, 'run'>, edge: EdgeConfig): Promise<EdgeStatus> {
  const containers = await edgeContainers(deps.run)
  const c = containers.find((x) => x.state === 'running') ?? containers[0]
  // With host networking the admin socket is in the host's own tables.
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')))
  const adminListeners = tables.flatMap((t) => listenersOnPort(t, edge.adminPort))
  const status: EdgeStatus = {
    running: c?.state === 'running',
    ...(c ? { container: { name: c.name, image: c.image, state: c.state, status: c.status } } : {}),
    adminListeners,
    adminLoopbackOnly: adminListeners.length > 0 && adminListeners.every(isLoopback),
  }
  try {
    const liveDir = c?.state === 'running' ? await mountedLiveDir(deps.run, c) : undefined
    if (liveDir) status.liveDir = liveDir
    else if (c?.state === 'running') status.error = `the edge mounts no live directory at ${LIVE_ROOT} (started by an earlier berth): recreate it`
    status.routes = await edgeRoutes(edge)
  } catch (error) {
    status.error = error instanceof Error ? error.message : String(error)
  }
  return status
}
