import { mkdir, mkdtemp, readFile, rm, rmdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { stringify } from 'yaml'

import type { EdgeConfig } from '../config/types.js'
import { type ComposeProject, composeUp } from '../docker/compose.js'
import { containerLogs, copyFromContainer, inspectMounts, inspectState, psByLabels } from '../docker/docker.js'
import { type Container, type ContainerState, parseContainerState, parsePs } from '../docker/parse.js'
import type { Deps } from '../run/context.js'
import { localFiles } from '../target/files.js'
import { PreflightError } from '../errors.js'
import { mask } from '../secrets.js'
import { CaddyAdmin } from './admin.js'
import {
  ADMIN_ROOT,
  ADMIN_SOCKET,
  adminConfig,
  adminExposure,
  adminListen,
  adminToSocket,
  type BerthRoute,
  berthRoutes,
  configDamage,
  type EdgeColour,
  type EdgeRoute,
  httpAppSetup,
  initialConfig,
  LIVE_ROOT,
  nextServers,
  refuseDamagedConfig,
  tcpAddress,
} from './caddy.js'
import { EdgeStartError, EdgeStateError, EdgeUnavailableError } from './errors.js'
import { clearLive, readLive, setLive } from './live.js'
import { EDGE_LABEL, EDGE_PROJECT, EDGE_VOLUME } from '../names.js'
import { legacyEdgeDir } from '../state/paths.js'

/** What reads the edge's engine: its runner and the engine it is built for. */
type EngineDeps = Pick<Deps, 'run' | 'target'>

/** SPEC §9: one edge per host, shared by every app and environment. */
const INITIAL_CONFIG = '/etc/berth-edge/initial.json'
const XDG_CONFIG_HOME = '/data/config'
/** Where Caddy saves every config change, and what `--resume` loads at start. */
const AUTOSAVE = `${XDG_CONFIG_HOME}/caddy/autosave.json`
const ADMIN_WAIT_MS = 15_000
const LOG_LINES = 20
const COMPOSE_HEADER = '# The edge proxy of this host (SPEC §9), written by berth: changes made here are overwritten.'

/** The edge's files on the host. */
export interface EdgePaths {
  dir: string
  /** The live markers (live.ts), mounted read-only into the edge. */
  live: string
  /** Root's alone (0700): Caddy makes its admin socket there. */
  admin: string
  composeFile: string
  envFile: string
}

/**
 * The edge is one per host, so its files are the host's, not any app's: BERTH_EDGE_DIR, by default
 * /var/lib/berth-edge. Kept out of the apps' state directories, where `<state dir>/edge/` would also be
 * the state of an environment named `edge`. A running edge keeps the directories it was started with, and
 * berth always uses those the running edge mounts.
 */
export function edgePaths(env: NodeJS.ProcessEnv = process.env): EdgePaths {
  const dir = resolve(env.BERTH_EDGE_DIR || '/var/lib/berth-edge')
  return { dir, live: join(dir, 'live'), admin: join(dir, 'admin'), composeFile: join(dir, 'compose.yaml'), envFile: join(dir, 'edge.env') }
}

/**
 * The edge's compose file, a pure function of the edge config and its directories. Host networking lets
 * a new listen port be added through the admin API without recreating the container. Caddy autosaves
 * every config change to $XDG_CONFIG_HOME/caddy/autosave.json on the volume and `--resume` loads it at
 * start, so an engine restart brings every route back; `--config` is used only on the very first start,
 * when there is no autosave yet. It carries the admin address (the socket in the mounted admin directory),
 * because Caddy 2.6 ignores CADDY_ADMIN. The initial config is inline (compose `configs.content`, Compose
 * >= 2.23.1), so the edge depends on no file of any app's state directory. The live markers' host
 * directory is mounted read-only: only berth on the host writes it.
 */
export function edgeComposeFile(edge: EdgeConfig, paths: Pick<EdgePaths, 'live' | 'admin'>): string {
  const doc = {
    name: EDGE_PROJECT,
    services: {
      caddy: {
        image: edge.image,
        network_mode: 'host',
        restart: 'unless-stopped',
        // Set here, not left to the image: `caddy:2` has no ENTRYPOINT (caddy is on its PATH), and custom builds
        // often have ENTRYPOINT ["/usr/bin/caddy"], which would run a command that begins with caddy as `caddy caddy …`.
        entrypoint: ['caddy'],
        command: ['run', '--resume', '--config', INITIAL_CONFIG],
        environment: { XDG_CONFIG_HOME, XDG_DATA_HOME: '/data/data' },
        volumes: [
          `${EDGE_VOLUME}:/data`,
          { type: 'bind', source: paths.live, target: LIVE_ROOT, read_only: true },
          { type: 'bind', source: paths.admin, target: ADMIN_ROOT },
        ],
        configs: [{ source: 'initial', target: INITIAL_CONFIG }],
        labels: { [EDGE_LABEL]: 'true' },
      },
    },
    volumes: { [EDGE_VOLUME]: { name: EDGE_VOLUME, labels: { [EDGE_LABEL]: 'true' } } },
    configs: { initial: { content: JSON.stringify(initialConfig()) } },
  }
  return `${COMPOSE_HEADER}\n${stringify(doc)}`
}

export function edgeTarget(deps: Pick<Deps, 'target'>, paths: EdgePaths): ComposeProject {
  return { engine: deps.target.engine, project: EDGE_PROJECT, files: [paths.composeFile], envFile: paths.envFile, projectDirectory: paths.dir }
}

/**
 * An earlier berth kept the edge's compose file in `<state dir>/edge/`, where it made `edge` look like an
 * environment with state; those two files go, and the directory with them unless an environment `edge`
 * keeps its own state there.
 */
async function removeLegacyEdgeFiles(stateDir: string): Promise<void> {
  const dir = legacyEdgeDir(stateDir)
  const text = await readFile(join(dir, 'compose.yaml'), 'utf8').catch(() => '')
  if (!text.startsWith(COMPOSE_HEADER)) return
  await rm(join(dir, 'compose.yaml'), { force: true })
  await rm(join(dir, 'edge.env'), { force: true })
  await rmdir(dir).catch(() => undefined)
}

async function edgeContainers(deps: EngineDeps): Promise<Container[]> {
  const { stdout } = await deps.run(psByLabels(deps.target.engine, [`com.docker.compose.project=${EDGE_PROJECT}`, `${EDGE_LABEL}=true`]))
  return parsePs(stdout)
}

/** The edge's container: the running one, else any (stopped, restarting). */
async function edgeContainer(deps: EngineDeps): Promise<Container | undefined> {
  const containers = await edgeContainers(deps)
  return containers.find((c) => c.state === 'running') ?? containers[0]
}

/** Host directories a container mounts at the live and admin roots. */
interface EdgeMounts {
  live?: string
  admin?: string
}

/** Each mounted host directory that is no longer there: one removed after the edge started hides the live markers (or the socket) from it. */
async function mountDamage(mounts: EdgeMounts): Promise<string[]> {
  const out: string[] = []
  for (const [what, dir] of [['live', mounts.live], ['admin', mounts.admin]] as const) {
    if (!dir) continue
    const st = await stat(dir).catch(() => undefined)
    if (!st?.isDirectory()) out.push(`the edge mounts ${dir} as its ${what} directory, which is ${st ? 'not a directory' : 'gone'} on this host`)
  }
  return out
}

async function edgeMounts(deps: EngineDeps, id: string): Promise<EdgeMounts> {
  const { stdout } = await deps.run(inspectMounts(deps.target.engine, id))
  const mounts = JSON.parse(stdout.trim() || '[]') as { Type?: string; Source?: string; Destination?: string }[]
  const source = (root: string) => mounts.find((m) => m.Type === 'bind' && m.Destination === root)?.Source
  const live = source(LIVE_ROOT)
  const admin = source(ADMIN_ROOT)
  return { ...(live ? { live } : {}), ...(admin ? { admin } : {}) }
}

/** The running edge: its admin API, on its socket, and the host directory of its live markers. */
export interface Edge {
  admin: CaddyAdmin
  liveDir: string
}

/**
 * Makes sure the edge runs, its admin API answers on the root-only socket and it has an http app. Starts
 * it (`compose up`) when its container is not running, and recreates it once when an earlier berth
 * started it without the live and admin directories: a current edge is never recreated by a deploy, so a
 * changed image takes effect only after the operator takes it down (its routes stay on its volume).
 */
export async function ensureEdge(deps: Deps, edge: EdgeConfig, stateDir: string): Promise<Edge> {
  const paths = edgePaths()
  await removeLegacyEdgeFiles(stateDir)
  let container = await edgeContainer(deps)
  let mounts = container?.state === 'running' ? await edgeMounts(deps, container.id) : {}
  if (!container || container.state !== 'running' || !mounts.live || !mounts.admin) {
    if (container?.state === 'running') {
      deps.reporter.warn(
        `the edge proxy was started by an earlier berth (no ${mounts.live ? 'admin socket' : 'live'} directory mounted): recreating it once; its routes come back from its saved config, and every route on it pauses for about a second`,
      )
    } else {
      deps.reporter.info(`starting the edge proxy (compose project ${EDGE_PROJECT}, ${edge.image})`)
    }
    await makeEdgeDirs(paths)
    await refuseOpenAdminDir(paths.admin)
    const target = edgeTarget(deps, paths)
    await localFiles.writeAtomic(paths.composeFile, edgeComposeFile(edge, paths))
    // Given explicitly and empty, so compose never reads a .env it happens to find.
    await localFiles.writeAtomic(paths.envFile, '')
    await deps.run(composeUp(target))
    container = await edgeContainer(deps)
    mounts = container ? await edgeMounts(deps, container.id) : {}
  }
  if (!container || !mounts.live || !mounts.admin) {
    throw new EdgeUnavailableError(
      `the edge proxy's container ${container ? `${container.name} mounts no ${mounts.live ? ADMIN_ROOT : LIVE_ROOT}` : 'was not created'} after compose up`,
      `See: docker compose -p ${EDGE_PROJECT} ps --all; docker compose -p ${EDGE_PROJECT} logs caddy`,
    )
  }
  await refuseGoneMounts(mounts)
  await refuseOpenAdminDir(mounts.admin)
  const admin = new CaddyAdmin({ socket: join(mounts.admin, ADMIN_SOCKET) })
  const config = await connectAdmin(deps, container, admin)
  const setup = httpAppSetup(config)
  if (setup) await admin.write(setup)
  return { admin, liveDir: mounts.live }
}

/** The live directory may be read by anyone (the markers say only which colour is live); the admin directory is root's alone. */
async function makeEdgeDirs(paths: EdgePaths): Promise<void> {
  for (const [dir, mode] of [[paths.live, 0o755], [paths.admin, 0o700]] as const) {
    await mkdir(dir, { recursive: true, mode }).catch((error: NodeJS.ErrnoException) => {
      throw new EdgeUnavailableError(
        `cannot create the edge's directory ${dir} (${error.code ?? error.message})`,
        "The edge's admin API is reachable by root only: run berth as root (sudo berth …).",
      )
    })
  }
}

/**
 * Blue-green needs root: only root can open the edge's admin socket (and an admin directory of another
 * user is refused). Said before anything changes, instead of at the switch.
 */
export function refuseNotRoot(uid: number | undefined): void {
  if (uid === undefined || uid === 0) return
  throw new PreflightError(
    `blue-green environments need root: the edge's admin API is reachable by root only, and berth runs as uid ${uid}`,
    'Run berth as root (sudo berth …). Nothing was changed.',
    'EDGE_ROOT_ONLY',
  )
}

/** What is wrong with the admin directory's owner and mode, one line each: only root may enter it. */
export function adminDirProblems(dir: string, st: { uid: number; mode: number }): string[] {
  const out: string[] = []
  if (st.uid !== 0) out.push(`the edge's admin directory ${dir} is owned by uid ${st.uid}, not root`)
  if ((st.mode & 0o077) !== 0) out.push(`the edge's admin directory ${dir} is mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}: other users may enter it and reach the admin socket`)
  return out
}

/**
 * Refuses (EdgeStateError, exit 2), before anything changes, edge state that a switch or removal of this
 * environment's routes would write but berth cannot make sense of: a mounted directory gone, an admin
 * directory others may enter, a config whose structure or whose routes of this environment berth cannot
 * read, a damaged live marker. Only reads; an edge that is not running is not checked (it is started
 * with what berth writes).
 */
export async function refuseDamagedEdge(deps: EngineDeps, app: string, env: string): Promise<void> {
  const c = await edgeContainer(deps)
  if (!c || c.state !== 'running') {
    // The edge will be started with this directory: it must be root's alone already.
    const admin = edgePaths().admin
    if (await stat(admin).then(() => true, () => false)) await refuseOpenAdminDir(admin)
    return
  }
  const mounts = await edgeMounts(deps, c.id)
  await refuseGoneMounts(mounts)
  if (mounts.admin) await refuseOpenAdminDir(mounts.admin)
  // An edge that does not answer on the socket (an earlier berth's) resumes its saved config when it is moved.
  const answered = mounts.admin ? await new CaddyAdmin({ socket: join(mounts.admin, ADMIN_SOCKET) }).get('/config/').then((r) => r, () => undefined) : undefined
  refuseDamagedConfig(answered ? answered.value : await savedConfig(deps, c.id), app, env)
  if (mounts.live) await readLive(mounts.live, app, env)
}

async function refuseGoneMounts(mounts: EdgeMounts): Promise<void> {
  const gone = await mountDamage(mounts)
  if (gone.length > 0) {
    throw new EdgeStateError(
      gone.join('; '),
      `The edge cannot see a directory made again after it started. Recreate it (its routes stay on the volume ${EDGE_VOLUME}): docker compose -p ${EDGE_PROJECT} down, then deploy again.`,
      'EDGE_MOUNT_GONE',
    )
  }
}

async function refuseOpenAdminDir(dir: string): Promise<void> {
  const problems = adminDirProblems(dir, await stat(dir))
  if (problems.length > 0) {
    throw new EdgeStateError(problems.join('; '), `Give it back to root alone, then run again: chown root:root ${dir} && chmod 700 ${dir}`, 'EDGE_ADMIN_DIR_OPEN')
  }
}

/**
 * The edge's config, read over its socket. An edge that does not answer there yet may be resuming a
 * config saved by an earlier berth, whose admin API is on TCP: berth moves it to the socket through that
 * TCP address once, and Caddy saves the change.
 */
async function connectAdmin(deps: Deps, container: Container, admin: CaddyAdmin): Promise<unknown> {
  try {
    return (await admin.get('/config/')).value
  } catch (error) {
    if (!(error instanceof EdgeUnavailableError) || error.errno === 'EACCES' || error.errno === 'EPERM') throw error
  }
  const saved = await savedConfig(deps, container.id)
  const tcp = saved === undefined ? undefined : tcpAddress(adminListen(saved))
  if (tcp) {
    deps.reporter.info(`moving the edge's admin API from TCP ${tcp} to the root-only socket ${admin.address}`)
    const old = new CaddyAdmin({ tcp })
    await old.write(adminToSocket(await waitForAdmin(deps, container, old, saved)))
  }
  return waitForAdmin(deps, container, admin, saved)
}

/**
 * Waits for the admin API to answer, up to ADMIN_WAIT_MS; a container that stops or restarts meanwhile
 * (an image whose caddy cannot start) fails at once with its own last log lines.
 */
async function waitForAdmin(deps: Deps, container: Container, admin: CaddyAdmin, saved: unknown): Promise<unknown> {
  const deadline = deps.now().getTime() + ADMIN_WAIT_MS
  let restarts: number | undefined
  for (;;) {
    try {
      return (await admin.get('/config/')).value
    } catch (error) {
      if (!(error instanceof EdgeUnavailableError)) throw error
      const state = parseContainerState((await deps.run(inspectState(deps.target.engine, container.id), { allowFailure: true })).stdout)
      restarts ??= state.restarts
      if (state.status !== 'running' || state.restarts > restarts) throw await startFailure(deps, container, state)
      if (deps.now().getTime() >= deadline) {
        const listen = saved === undefined ? undefined : adminListen(saved)
        throw new EdgeUnavailableError(
          `the edge proxy's admin API did not answer on ${admin.address} within ${ADMIN_WAIT_MS / 1000} s (${error.message})${listen && 'socket' in admin.at && listen !== adminConfig().listen ? `; its saved config has it on ${listen}` : ''}`,
          `See: docker compose -p ${EDGE_PROJECT} logs caddy`,
        )
      }
      await deps.sleep(250)
    }
  }
}

async function startFailure(deps: EngineDeps, container: Container, state: ContainerState): Promise<EdgeStartError> {
  const logs = await deps.run(containerLogs(deps.target.engine, container.id, LOG_LINES), { allowFailure: true })
  const lines = `${logs.stdout}\n${logs.stderr}`.split('\n').filter((l) => l.trim() !== '').slice(-LOG_LINES)
  const what =
    state.status === 'restarting' || state.status === 'running'
      ? `keeps restarting (exit code ${state.exitCode}, restarted ${state.restarts} time${state.restarts === 1 ? '' : 's'})`
      : state.status === 'exited'
        ? `exited with code ${state.exitCode}`
        : `is ${state.status}`
  return new EdgeStartError(
    mask(`the edge proxy's container ${container.name} (${container.image}) ${what} before its admin API answered; its last log lines:\n${lines.map((l) => `  ${l}`).join('\n') || '  (none)'}`),
    `edge.image must be a Caddy 2 image with caddy on its PATH: berth runs it as \`caddy run --resume --config …\`, whatever its ENTRYPOINT. Fix it and deploy again; to start over: docker compose -p ${EDGE_PROJECT} down (its routes stay on the volume ${EDGE_VOLUME}).`,
  )
}

/**
 * The config the edge resumes at start (Caddy's autosave, updated on every change): undefined before its
 * first save. Read out of the container, so it is found wherever its admin API listens.
 */
async function savedConfig(deps: EngineDeps, id: string): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-edge-'))
  try {
    const file = join(dir, 'autosave.json')
    if ((await deps.run(copyFromContainer(deps.target.engine, id, AUTOSAVE, file), { allowFailure: true })).exitCode !== 0) return undefined
    const text = await readFile(file, 'utf8')
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new EdgeStateError(
        `the edge's saved config (${AUTOSAVE} in its container) does not parse: ${(error as Error).message}`,
        `Caddy wrote it; see docker compose -p ${EDGE_PROJECT} logs caddy. Taking the edge down with its volume (docker compose -p ${EDGE_PROJECT} down --volumes) drops every route on it: then deploy each blue-green environment again.`,
      )
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Sends this environment's routes to `colour`. The routes (both colours' upstreams) are written to the
 * edge only when they differ from what it holds, in one atomic change of its servers that touches no other
 * environment's route (CaddyAdmin.updateServers); the switch itself is the marker's rename, so a deploy
 * whose routes did not change never reloads the edge. The marker comes first when there is none yet, so
 * new routes never send a request to the colour that is not live.
 */
export async function switchRoutes(deps: Deps, edge: Edge, app: string, env: string, colour: EdgeColour, routes: readonly EdgeRoute[]): Promise<void> {
  if (routes.length === 0) throw new RangeError('switchRoutes needs at least one route; removeRoutes takes them away')
  const first = !(await readLive(edge.liveDir, app, env))
  if (first) await setLive(edge.liveDir, app, env, colour)
  try {
    await edge.admin.updateServers((current) => nextServers(current, app, env, routes), deps.sleep)
  } catch (error) {
    // The edge refused the routes: a marker made just for them would be left pointing at nothing.
    if (first) await clearLive(edge.liveDir, app, env)
    throw error
  }
  await setLive(edge.liveDir, app, env, colour)
}

/**
 * Removes this environment's routes from the edge, then its marker. The edge is started if it is down:
 * its saved config would bring the routes back when it next starts.
 */
export async function removeRoutes(deps: Deps, edgeConfig: EdgeConfig, stateDir: string, app: string, env: string): Promise<void> {
  const edge = await ensureEdge(deps, edgeConfig, stateDir)
  await edge.admin.updateServers((current) => nextServers(current, app, env, []), deps.sleep)
  await clearLive(edge.liveDir, app, env)
}

/** Every berth route the edge holds now, with its upstream. */
export async function edgeRoutes(edge: Edge): Promise<BerthRoute[]> {
  return berthRoutes((await edge.admin.get('/config/')).value)
}

export interface EdgeStatus {
  running: boolean
  container?: { name: string; image: string; state: string; status: string }
  /** Host directory of the live markers the running edge mounts (undefined when none). */
  liveDir?: string
  /** Where its admin API listens, as its config says (Caddy's admin.listen). */
  adminListen?: string
  /** undefined when its config could not be read. */
  routes?: BerthRoute[]
  /** What is wrong, one line each: how its admin API is reached, its directories, what could not be read. */
  problems: string[]
}

/**
 * What doctor checks of the edge, changing nothing: container running, admin API on the root-only socket
 * only (its config's admin.listen, read over the socket, or from its saved config when it does not answer
 * there), the admin directory root's alone, and the routes it holds.
 */
export async function edgeStatus(deps: EngineDeps): Promise<EdgeStatus> {
  const c = await edgeContainer(deps)
  const status: EdgeStatus = {
    running: c?.state === 'running',
    ...(c ? { container: { name: c.name, image: c.image, state: c.state, status: c.status } } : {}),
    problems: [],
  }
  if (!c || c.state !== 'running') return status
  try {
    const mounts = await edgeMounts(deps, c.id)
    if (mounts.live) status.liveDir = mounts.live
    if (!mounts.live || !mounts.admin) {
      status.problems.push(`it was started by an earlier berth (no ${mounts.live ? ADMIN_ROOT : LIVE_ROOT} mounted): the next blue-green deploy or rollback recreates it`)
    }
    const gone = await mountDamage(mounts)
    status.problems.push(...gone)
    let config: unknown
    if (mounts.admin && gone.length === 0) {
      status.problems.push(...adminDirProblems(mounts.admin, await stat(mounts.admin)))
      config = await new CaddyAdmin({ socket: join(mounts.admin, ADMIN_SOCKET) }).get('/config/').then(
        (read) => read.value,
        (error: unknown) => {
          status.problems.push(error instanceof Error ? error.message : String(error))
          return undefined
        },
      )
    }
    config ??= await savedConfig(deps, c.id)
    if (config !== undefined) {
      status.adminListen = adminListen(config)
      status.problems.push(...adminExposure(config), ...configDamage(config))
      status.routes = berthRoutes(config)
    }
  } catch (error) {
    status.problems.push(error instanceof Error ? error.message : String(error))
  }
  return status
}
