import { type BerthRoute, berthRoutes, LIVE_ROOT } from './caddy.js'
import { edgeContainer, edgeMounts, type EngineDeps, mountDamage, savedConfig } from './container.js'
import { adminDirProblems, adminOf } from './lifecycle.js'
import { ADMIN_ROOT, adminExposure, adminListen, configDamage } from './config.js'

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
    const { files } = deps.target.host
    const gone = await mountDamage(files, mounts)
    status.problems.push(...gone)
    let config: unknown
    if (mounts.admin && gone.length === 0) {
      const st = await files.stat(mounts.admin)
      if (st) status.problems.push(...adminDirProblems(mounts.admin, st))
      config = await (await adminOf(deps, mounts.admin)).get('/config/').then(
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
