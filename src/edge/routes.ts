import type { EdgeConfig } from '../config/types.js'
import type { Deps } from '../run/context.js'
import { type BerthRoute, berthRoutes, type EdgeColour, type EdgeRoute, nextServers } from './caddy.js'
import { type Edge, ensureEdge } from './lifecycle.js'
import { clearLive, readLive, setLive } from './live.js'

/**
 * Sends this environment's routes to `colour`. The routes (both colours' upstreams) are written to the
 * edge only when they differ from what it holds, in one atomic change of its servers that touches no other
 * environment's route (CaddyAdmin.updateServers); the switch itself is the marker's rename, so a deploy
 * whose routes did not change never reloads the edge. The marker comes first when there is none yet, so
 * new routes never send a request to the colour that is not live.
 */
export async function switchRoutes(deps: Deps, edge: Edge, app: string, env: string, colour: EdgeColour, routes: readonly EdgeRoute[]): Promise<void> {
  if (routes.length === 0) throw new RangeError('switchRoutes needs at least one route; removeRoutes takes them away')
  const first = !(await readLive(edge.files, edge.liveDir, app, env))
  if (first) await setLive(edge.files, edge.liveDir, app, env, colour)
  try {
    await edge.admin.updateServers((current) => nextServers(current, app, env, routes), deps.sleep)
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
  await edge.admin.updateServers((current) => nextServers(current, app, env, []), deps.sleep)
  await clearLive(edge.files, edge.liveDir, app, env)
}

/** Every berth route the edge holds now, with its upstream. */
export async function edgeRoutes(edge: Edge): Promise<BerthRoute[]> {
  return berthRoutes((await edge.admin.get('/config/')).value)
}
