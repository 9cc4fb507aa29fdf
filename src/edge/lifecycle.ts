import { join } from 'node:path'

import type { EdgeConfig } from '../config/types.js'
import { composeUp } from '../docker/compose.js'
import { inspectState } from '../docker/docker.js'
import { type Container, parseContainerState } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import { EDGE_PROJECT, EDGE_VOLUME } from '../names.js'
import type { Deps } from '../run/context.js'
import type { Files } from '../target/files.js'
import { localFiles } from '../target/files.js'
import { CaddyAdmin } from './admin.js'
import { LIVE_ROOT } from './caddy.js'
import { edgeComposeFile, edgeTarget, removeLegacyEdgeFiles } from './composeFile.js'
import { edgeContainer, type EdgeMounts, edgeMounts, type EngineDeps, forgetEdge, rememberedEdge, runningEdge, mountDamage, savedConfig, startFailure } from './container.js'
import { EdgeStartError, EdgeStateError, EdgeUnavailableError } from './errors.js'
import { readLive } from './live.js'
import { type EdgePaths, hostEdgePaths } from './paths.js'
import { ADMIN_ROOT, ADMIN_SOCKET, adminConfig, adminListen, adminToSocket, httpAppSetup, refuseDamagedConfig, tcpAddress } from './config.js'

/** Starting the edge, reaching its admin API on the root-only socket, and refusing edge state berth cannot read (SPEC §9). */

const ADMIN_WAIT_MS = 15_000

/** The running edge: its admin API, on its socket, and the host directory of its live markers. */
export interface Edge {
  admin: CaddyAdmin
  liveDir: string
  /** The files of the edge's host, where its live markers are. */
  files: Files
}

/**
 * Makes sure the edge runs, its admin API answers on the root-only socket and it has an http app. Starts
 * it (`compose up`) when its container is not running, and recreates it once when an earlier berth
 * started it without the live and admin directories: a current edge is never recreated by a deploy, so a
 * changed image takes effect only after the operator takes it down (its routes stay on its volume).
 */
export async function ensureEdge(deps: Deps, edge: EdgeConfig, stateDir: string): Promise<Edge> {
  const remembered = rememberedEdge(deps)
  try {
    return await ensureEdgeOnce(deps, edge, stateDir)
  } catch (error) {
    // The edge this run saw running a moment ago (runningEdge) may have gone since: look again, once.
    if (!remembered || !(error instanceof EdgeUnavailableError || error instanceof EdgeStartError)) throw error
    forgetEdge(deps)
    return ensureEdgeOnce(deps, edge, stateDir)
  }
}

async function ensureEdgeOnce(deps: Deps, edge: EdgeConfig, stateDir: string): Promise<Edge> {
  const paths = await hostEdgePaths(deps.target.host)
  await removeLegacyEdgeFiles(stateDir)
  let { container, mounts } = await runningEdge(deps)
  if (!container || container.state !== 'running' || !mounts.live || !mounts.admin) {
    if (container?.state === 'running') {
      deps.reporter.warn(
        `the edge proxy was started by an earlier berth (no ${mounts.live ? 'admin socket' : 'live'} directory mounted): recreating it once; its routes come back from its saved config, and every route on it pauses for about a second`,
      )
    } else {
      deps.reporter.info(`starting the edge proxy (compose project ${EDGE_PROJECT}, ${edge.image})`)
    }
    await makeEdgeDirs(deps.target.host.files, paths)
    await refuseOpenAdminDir(deps.target.host.files, paths.admin)
    const target = edgeTarget(deps, paths)
    // Compose reads them on this machine; the directories they name are the host's.
    await localFiles.writeAtomic(paths.composeFile, edgeComposeFile(edge, paths))
    // Given explicitly and empty, so compose never reads a .env it happens to find.
    await localFiles.writeAtomic(paths.envFile, '')
    forgetEdge(deps)
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
  const { files } = deps.target.host
  await refuseGoneMounts(files, mounts)
  await refuseOpenAdminDir(files, mounts.admin)
  const admin = await adminOf(deps, mounts.admin)
  const config = await connectAdmin(deps, container, admin)
  const setup = httpAppSetup(config)
  if (setup) await admin.write(setup)
  return { admin, liveDir: mounts.live, files }
}

/** The live directory may be read by anyone (the markers say only which colour is live); the admin directory is root's alone. */
async function makeEdgeDirs(files: Files, paths: EdgePaths): Promise<void> {
  for (const [dir, mode] of [[paths.live, 0o755], [paths.admin, 0o700]] as const) {
    await files.mkdir(dir, mode).catch((error: NodeJS.ErrnoException) => {
      throw new EdgeUnavailableError(
        `cannot create the edge's directory ${dir} (${error.code ?? error.message})`,
        "The edge's admin API is reachable by root only: run berth as root (sudo berth …).",
      )
    })
  }
}

/**
 * Blue-green needs root on the edge's host: only root can open the edge's admin socket (and an admin
 * directory of another user is refused). `uid` is berth's there: this process's, or that of its SSH login to
 * `remote` (the host's URL) when the edge's host is another machine. Said before anything changes, instead of
 * at the switch.
 */
export function refuseNotRoot(uid: number | undefined, remote?: string): void {
  if (uid === undefined || uid === 0) return
  if (remote) {
    throw new PreflightError(
      `blue-green environments need root: the edge's admin API on ${remote} is reachable by root only, and berth's SSH login there is uid ${uid}`,
      "Log in as root there (host: ssh://root@… in deploy.yml, or a Host entry of ~/.ssh/config with User root). Nothing was changed.",
      'EDGE_ROOT_ONLY',
    )
  }
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
  const { files } = deps.target.host
  const { container: c, mounts } = await runningEdge(deps)
  if (!c || c.state !== 'running') {
    // The edge will be started with this directory: it must be root's alone already.
    const { admin } = await hostEdgePaths(deps.target.host)
    if (await files.stat(admin)) await refuseOpenAdminDir(files, admin)
    return
  }
  await refuseGoneMounts(files, mounts)
  if (mounts.admin) await refuseOpenAdminDir(files, mounts.admin)
  // An edge that does not answer on the socket (an earlier berth's) resumes its saved config when it is moved.
  const answered = mounts.admin ? await (await adminOf(deps, mounts.admin)).get('/config/').then((r) => r, () => undefined) : undefined
  refuseDamagedConfig(answered ? answered.value : await savedConfig(deps, c.id), app, env)
  if (mounts.live) await readLive(files, mounts.live, app, env)
}

/**
 * The edge's config now, changing nothing: read over its socket when it runs and answers there, else the
 * config it resumes at its next start; undefined when there is no edge container or it saved nothing yet.
 */
export async function edgeConfigNow(deps: EngineDeps): Promise<unknown> {
  const { container: c, mounts } = await runningEdge(deps)
  if (!c) return undefined
  const answered = mounts.admin ? await (await adminOf(deps, mounts.admin)).get('/config/').then((r) => r.value, () => undefined) : undefined
  return answered ?? (await savedConfig(deps, c.id))
}

/** The host directory the edge reads its live markers from: the running edge's, else the one it will be started with. */
export async function edgeLiveDir(deps: EngineDeps): Promise<string> {
  const { mounts } = await runningEdge(deps)
  return mounts.live ?? (await hostEdgePaths(deps.target.host)).live
}

/** The admin API on the socket in the edge's admin directory, reached from this machine. */
export async function adminOf(deps: EngineDeps, adminDir: string): Promise<CaddyAdmin> {
  return new CaddyAdmin({ socket: await deps.target.host.socket(join(adminDir, ADMIN_SOCKET)) })
}

async function refuseGoneMounts(files: Files, mounts: EdgeMounts): Promise<void> {
  const gone = await mountDamage(files, mounts)
  if (gone.length > 0) {
    throw new EdgeStateError(
      gone.join('; '),
      `The edge cannot see a directory made again after it started. Recreate it (its routes stay on the volume ${EDGE_VOLUME}): docker compose -p ${EDGE_PROJECT} down, then deploy again.`,
      'EDGE_MOUNT_GONE',
    )
  }
}

async function refuseOpenAdminDir(files: Files, dir: string): Promise<void> {
  const st = await files.stat(dir)
  const problems = st ? adminDirProblems(dir, st) : []
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
