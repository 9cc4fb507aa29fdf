import type { Config, EnvironmentConfig } from '../../config/types.js'
import { type CaddyServers, isObject, maintenanceRoutes } from '../../edge/caddy.js'
import { edgeConfigNow, edgeLiveDir, ensureEdge } from '../../edge/lifecycle.js'
import { maintenancePage, readMaintenance, removeMaintenance, writeMaintenance } from '../../edge/maintenance.js'
import { notRouted, routesForMaintenance } from '../../edge/routes.js'
import type { Deps } from '../../run/context.js'
import type { MaintenanceApplied, MaintenanceChange, MaintenanceSwitch } from '../strategy.js'

/**
 * SPEC §9 maintenance of a blue-green environment: its routes on the edge answer its maintenance page, 503,
 * while the page's file is in place beside its live marker (edge/maintenance.ts). On and off are a file's
 * rename and removal: the edge's config changes only for routes an earlier berth wrote without the page.
 */
export const maintenance: MaintenanceSwitch = {
  async check(deps, config, env, change) {
    if (!change.on) return
    const { ids } = maintenanceRoutes(serversOf(await edgeConfigNow(deps)), config.app, env.name)
    if (ids.length === 0) throw notRouted(env.name)
  },

  async set(deps: Deps, config: Config, env: EnvironmentConfig, change: MaintenanceChange): Promise<MaintenanceApplied> {
    const { files } = deps.target.host
    if (!change.on) {
      const changed = await removeMaintenance(files, await edgeLiveDir(deps), config.app, env.name)
      return { changed, routes: [], rewritten: [] }
    }
    // Started if it is down: its routes come back from its saved config, and the page must be served by them.
    const edge = await ensureEdge(deps, config.edge, config.stateDir)
    const { routes, rewritten } = await routesForMaintenance(deps, edge, config.app, env.name)
    const before = await readMaintenance(edge.files, edge.liveDir, config.app, env.name)
    const page = { since: before?.since ?? change.at, ...(change.message !== undefined ? { message: change.message } : {}) }
    const changed = before === undefined || before.message !== page.message
    if (changed) await writeMaintenance(edge.files, edge.liveDir, config.app, env.name, maintenancePage(page))
    return { changed: changed || rewritten.length > 0, ...page, routes, rewritten }
  },
}

function serversOf(config: unknown): CaddyServers | undefined {
  const apps = isObject(config) ? config.apps : undefined
  const http = isObject(apps) ? apps.http : undefined
  return isObject(http) && isObject(http.servers) ? (http.servers as CaddyServers) : undefined
}
