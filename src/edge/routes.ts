import type { EdgeConfig } from '../config/types.js'
import type { Deps } from '../run/context.js'
import { PreflightError } from '../errors.js'
import { type BerthRoute, berthRoutes, type CaddyServers, type EdgeColour, type EdgeRoute, maintenanceRoutes, nextApps, SERVERS_PATH, withMaintenanceBranch } from './caddy.js'
import { type Edge, ensureEdge } from './lifecycle.js'
import { clearLive, readLive, setLive } from './live.js'

/**
 * Sends this environment's routes to `colour`. The routes (both colours' upstreams) are written to the
 * edge only when they differ from what it holds, in one atomic change of its servers that touches no other
 * environment's route, with the tls policies of its hosts (CaddyAdmin.updateApps); the switch itself is the marker's rename, so a deploy
 * whose routes did not change never reloads the edge. The marker comes first when there is none yet, so
 * new routes never send a request to the colour that is not live.
 */
export async function switchRoutes(deps: Deps, edge: Edge, app: string, env: string, colour: EdgeColour, routes: readonly EdgeRoute[]): Promise<void> {
  if (routes.length === 0) throw new RangeError('switchRoutes needs at least one route; removeRoutes takes them away')
  const first = !(await readLive(edge.files, edge.liveDir, app, env))
  if (first) await setLive(edge.files, edge.liveDir, app, env, colour)
  try {
    await edge.admin.updateApps((current) => nextApps(current, app, env, routes), deps.sleep)
  } catch (error) {
    // The edge refused the routes: a marker made just for them would be left pointing at nothing.
    if (first) await clearLive(edge.files, edge.liveDir, app, env)
    throw error
  }
  await setLive(edge.files, edge.liveDir, app, env, colour)
}

/**
 * Removes this environment's routes from the edge, then its marker. The edge is started if it is down:
 * its saved config would bring the routes back when it next starts.
 */
export async function removeRoutes(deps: Deps, edgeConfig: EdgeConfig, stateDir: string, app: string, env: string): Promise<void> {
  const edge = await ensureEdge(deps, edgeConfig, stateDir)
  await edge.admin.updateApps((current) => nextApps(current, app, env, []), deps.sleep)
  await clearLive(edge.files, edge.liveDir, app, env)
}

/** Every berth route the edge holds now, with its upstream. */
export async function edgeRoutes(edge: Edge): Promise<BerthRoute[]> {
  return berthRoutes((await edge.admin.get('/config/')).value)
}

/**
 * Makes this environment's routes answer its maintenance page (SPEC §9): routes written by a berth before
 * maintenance lack the branch that does, and are rewritten once, in one change of the servers (which reloads
 * the edge, so it is said on screen); routes that have it are left alone, and nothing reloads. Returns the
 * ids of its routes and of those rewritten. An environment with no routes on the edge is refused (exit 2).
 */
export async function routesForMaintenance(deps: Deps, edge: Edge, app: string, env: string): Promise<{ routes: string[]; rewritten: string[] }> {
  const { ids, outdated } = maintenanceRoutes((await edge.admin.get(SERVERS_PATH)).value as CaddyServers | null, app, env)
  if (ids.length === 0) throw notRouted(env)
  if (outdated.length === 0) return { routes: ids, rewritten: [] }
  deps.reporter.warn(
    `${env}: ${outdated.join(', ')} ${outdated.length === 1 ? 'was' : 'were'} written by an earlier berth, without the maintenance page: rewriting ${outdated.length === 1 ? 'it' : 'them'} once. ` +
      "That one config change reloads the edge, which closes the idle keep-alive connections of every route on it; later switches reload nothing",
  )
  await edge.admin.updateServers((current) => withMaintenanceBranch(current, app, env), deps.sleep)
  return { routes: ids, rewritten: outdated }
}

export function notRouted(env: string): PreflightError {
  return new PreflightError(
    `${env} has no routes on the edge: it was never deployed, or it was taken down`,
    `Maintenance answers an environment's routes: deploy it first (berth deploy ${env}). Nothing was changed.`,
    'NOT_ROUTED',
  )
}
