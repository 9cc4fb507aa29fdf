import type { Config, EnvironmentConfig } from '../../config/types.js'
import { type Check, plural } from '../../doctor/check.js'
import { environmentRoutes } from '../../edge/caddy.js'
import { edgeStatus } from '../../edge/status.js'
import { EdgeStateError } from '../../edge/errors.js'
import { readLive } from '../../edge/live.js'
import { readMaintenance } from '../../edge/maintenance.js'
import { EDGE_PROJECT } from '../../names.js'
import type { Deps } from '../../run/context.js'
import { readColours } from '../../state/colours.js'
import { readOrDamaged } from '../../state/damage.js'
import { upstreamKey } from './colours.js'

/**
 * SPEC §9: the edge runs, its admin API is reachable by root only (on the socket in its root-only
 * directory, on no TCP port), and each blue-green route points where berth switched it. Each host has its
 * own edge (SPEC §10): doctor asks this of each engine for the environments that run there, so the edge,
 * its files and the colour state are all `deps.target`'s.
 */
export async function edgeCheck(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check> {
  const edge = await edgeStatus(deps)
  const details: string[] = []
  /** Environments in maintenance: not a problem, said in the summary. */
  const paused: string[] = []
  if (!edge.running) details.push(`the edge (compose project ${EDGE_PROJECT}) is not running`)
  details.push(...edge.problems)
  for (const env of envs) {
    // Damaged colour state is the state check's finding.
    const state = (await readOrDamaged(readColours(deps.target.state, env.name))).value
    if (!state?.live) continue
    const held = edge.routes ? environmentRoutes(edge.routes, config.app, env.name) : []
    // A marker berth cannot read is shown, not thrown: doctor reports on everything else too.
    const live = edge.liveDir
      ? await readLive(deps.target.host.files, edge.liveDir, config.app, env.name).catch((error: unknown) => {
          if (!(error instanceof EdgeStateError)) throw error
          details.push(`${env.name}: ${error.message}. ${error.hint ?? ''}`.trimEnd())
          return 'damaged' as const
        })
      : undefined
    if (edge.liveDir && (await readMaintenance(deps.target.host.files, edge.liveDir, config.app, env.name).catch(() => undefined))) paused.push(env.name)
    if (edge.running && live !== 'damaged' && live !== state.live) details.push(`${env.name}: the edge sends its routes to ${live ?? 'no colour'} (live marker), not to the recorded live colour ${state.live}`)
    for (const route of env.routes) {
      const want = `127.0.0.1:${state.upstreams[state.live][upstreamKey(route)]}`
      const got = held.find((r) => r.listen === route.listen && (r.host ?? '') === (route.host ?? ''))
      if (edge.routes && got?.upstreams[state.live] !== want) {
        details.push(`${env.name}: route :${route.listen}${route.host ? ` (${route.host})` : ''} sends ${state.live} to ${got?.upstreams[state.live] ?? 'nothing'}, not to the live ${state.live} colour (${want})`)
      }
    }
  }
  const maintenance = paused.length ? `; in maintenance (routes answer 503): ${paused.join(', ')}` : ''
  if (details.length === 0) return { id: 'edge', status: 'ok', summary: `the edge runs, admin API on a root-only socket, routes as recorded${maintenance}`, details: [] }
  return {
    id: 'edge',
    status: 'fail',
    summary: `${details.length} edge problem${plural(details.length)}${maintenance}`,
    details,
    hint: 'berth deploy ENV --tag <active release> switches the routes again and moves an earlier berth\'s edge to the root-only admin socket; the edge is compose project berth-edge',
  }
}
