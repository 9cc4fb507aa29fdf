import type { Config, EnvironmentConfig } from '../../config/types.js'
import { type Check, plural } from '../../doctor/check.js'
import { environmentRoutes } from '../../edge/caddy.js'
import { type EdgeStatus, edgeStatus } from '../../edge/status.js'
import { EdgeStateError } from '../../edge/errors.js'
import { readLive } from '../../edge/live.js'
import { EDGE_PROJECT } from '../../names.js'
import { type Deps, onTarget } from '../../run/context.js'
import { readColours } from '../../state/colours.js'
import { readOrDamaged } from '../../state/damage.js'
import type { Target } from '../../target/target.js'
import { upstreamKey } from './colours.js'

/**
 * SPEC §9: the edge runs, its admin API is reachable by root only (on the socket in its root-only
 * directory, on no TCP port), and each blue-green route points where berth switched it. Each host has its
 * own edge (SPEC §10): the environments are checked against the edge of the host they run on, and a finding
 * about another host's edge than the command's names that host.
 */
export async function edgeCheck(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check> {
  const details: string[] = []
  for (const [target, hosted] of byTarget(deps, envs)) {
    const on = hosted[0] ? onTarget(deps, hosted[0]) : deps
    const found = await hostEdgeProblems(on, config, hosted).catch((error: unknown) => {
      // The command's own engine answered (doctor checked it first); another host may not.
      if (target === deps.target) throw error
      return [`cannot check its edge: ${error instanceof Error ? error.message : String(error)}`]
    })
    details.push(...found.map((line) => (target === deps.target ? line : `${target.description}: ${line}`)))
  }
  if (details.length === 0) return { id: 'edge', status: 'ok', summary: 'the edge runs, admin API on a root-only socket, routes as recorded', details: [] }
  return {
    id: 'edge',
    status: 'fail',
    summary: `${details.length} edge problem${plural(details.length)}`,
    details,
    hint: 'berth deploy ENV --tag <active release> switches the routes again and moves an earlier berth\'s edge to the root-only admin socket; the edge is compose project berth-edge',
  }
}

/** The environments by the target they run on; the command's own target when there are none. */
function byTarget(deps: Deps, envs: readonly EnvironmentConfig[]): Map<Target, EnvironmentConfig[]> {
  const out = new Map<Target, EnvironmentConfig[]>()
  if (envs.length === 0) out.set(deps.target, [])
  for (const env of envs) {
    const target = deps.targetOf(env)
    out.set(target, [...(out.get(target) ?? []), env])
  }
  return out
}

/** What is wrong with the edge of one host (`deps.target`'s) and the routes of the environments on it. */
async function hostEdgeProblems(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<string[]> {
  const edge = await edgeStatus(deps)
  const details: string[] = []
  if (!edge.running) details.push(`the edge (compose project ${EDGE_PROJECT}) is not running`)
  details.push(...edge.problems)
  for (const env of envs) details.push(...(await routeProblems(deps, config, env, edge)))
  return details
}

/** Where the edge sends one environment's routes, against its recorded live colour and upstreams. */
async function routeProblems(deps: Deps, config: Config, env: EnvironmentConfig, edge: EdgeStatus): Promise<string[]> {
  // Damaged colour state is the state check's finding.
  const state = (await readOrDamaged(readColours(deps.target.state, env.name))).value
  if (!state?.live) return []
  const details: string[] = []
  const held = edge.routes ? environmentRoutes(edge.routes, config.app, env.name) : []
  // A marker berth cannot read is shown, not thrown: doctor reports on everything else too.
  const live = edge.liveDir
    ? await readLive(deps.target.host.files, edge.liveDir, config.app, env.name).catch((error: unknown) => {
        if (!(error instanceof EdgeStateError)) throw error
        details.push(`${env.name}: ${error.message}. ${error.hint ?? ''}`.trimEnd())
        return 'damaged' as const
      })
    : undefined
  if (edge.running && live !== 'damaged' && live !== state.live) details.push(`${env.name}: the edge sends its routes to ${live ?? 'no colour'} (live marker), not to the recorded live colour ${state.live}`)
  for (const route of env.routes) {
    const want = `127.0.0.1:${state.upstreams[state.live][upstreamKey(route)]}`
    const got = held.find((r) => r.listen === route.listen && (r.host ?? '') === (route.host ?? ''))
    if (edge.routes && got?.upstreams[state.live] !== want) {
      details.push(`${env.name}: route :${route.listen}${route.host ? ` (${route.host})` : ''} sends ${state.live} to ${got?.upstreams[state.live] ?? 'nothing'}, not to the live ${state.live} colour (${want})`)
    }
  }
  return details
}
