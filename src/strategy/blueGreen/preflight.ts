import { parse } from 'yaml'

import type { Config, EnvironmentConfig } from '../../config/types.js'
import { HTTP_PORT, listenPorts, redirectedHosts } from '../../edge/caddy.js'
import { edgeConfigNow, refuseDamagedEdge, refuseNotRoot } from '../../edge/lifecycle.js'
import { PreflightError } from '../../errors.js'
import type { Env } from '../../health/gate.js'
import { type Colour, colourProject, otherColour } from '../../names.js'
import { listeningPorts } from '../../inspect/hostPorts.js'
import { poolNetworks } from '../../preflight/addressPools.js'
import { type ComposeModel, publishedPorts } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import { readColours } from '../../state/colours.js'
import type { Plan } from '../strategy.js'
import { splitConfig } from './colours.js'

/**
 * SPEC §9: both colours run at once during a switch, so a colour service cannot publish a host port
 * itself — the edge owns the public ports. Stateful and routed services must exist in the compose files.
 */
export function refuseBlueGreenModel(model: ComposeModel, env: EnvironmentConfig): void {
  const services = Object.keys(model.services)
  const unknown = [...env.stateful.map((s) => `stateful ${s}`), ...env.routes.map((r) => `route to ${r.service}`)].filter(
    (what) => !services.includes(what.replace(/^(stateful|route to) /, '')),
  )
  if (unknown.length > 0) {
    throw new PreflightError(
      `${env.name}: ${unknown.join(', ')}: no such service in the compose files (services: ${services.join(', ')})`,
      'Name services of the compose files under stateful: and routes:.',
      'UNKNOWN_SERVICE',
    )
  }
  const publishing = publishedPorts(model).filter((p) => !env.stateful.includes(p.service))
  if (publishing.length > 0) {
    throw new PreflightError(
      `${env.name} is blue-green, but ${publishing.map((p) => `${p.service} publishes host port ${p.port}`).join(', ')}: both colours run at once and cannot both publish it`,
      'Remove the ports: of stateless services and reach them through routes: (the edge owns the public port), or list the service under stateful:.',
      'COLOUR_PUBLISHES_PORT',
    )
  }
}

/**
 * Before a deploy, rollback or down changes anything (SPEC §5): the colour state must read, and a run that
 * could not reach the edge's root-only admin API, or whose edge state berth cannot make sense of, is
 * refused (exit 2) rather than failing, or overwriting that state, at the switch.
 */
export async function beforeChange(deps: Deps, config: Config, env: EnvironmentConfig): Promise<void> {
  await readColours(deps.target.state, env.name)
  const { host } = deps.target
  // Root on the edge's host: this process here, the SSH login on another host (whose edge has its compose files here).
  refuseNotRoot(await host.uid(), host.edgeWorkDir === undefined ? undefined : deps.target.description)
  await refuseDamagedEdge(deps, config.app, env.name)
}

/**
 * The model's refusals, and what the host must have room for: the networks and the edge's listen ports,
 * port 80 too when an HTTPS route on 443 has its host redirected there (no container may publish it, and
 * no other process of the host may listen on it, unless the edge already does).
 */
export async function plan(deps: Deps, e: Env, model: ComposeModel): Promise<Plan> {
  refuseBlueGreenModel(model, e.env)
  await refuseRedirectPortTaken(deps, e.env)
  const redirect = redirectedHosts(e.env.routes).length > 0 ? [{ target: HTTP_PORT, published: String(HTTP_PORT) }] : []
  const published: ComposeModel = {
    services: { ...model.services, 'edge route': { ports: [...e.env.routes.map((r) => ({ target: r.port, published: String(r.listen) })), ...redirect] } },
  }
  return { networks: await plannedNetworks(e, model), published }
}

/**
 * The edge redirects the hosts of HTTPS routes on 443 to https on port 80, which it then listens on: refused
 * (exit 2, nothing changed) when something else on the edge's host listens there. Caddy would refuse the
 * whole config at the switch, after the new colour is up. The edge's own listener is not something else.
 */
async function refuseRedirectPortTaken(deps: Deps, env: EnvironmentConfig): Promise<void> {
  const hosts = redirectedHosts(env.routes)
  if (hosts.length === 0) return
  if (listenPorts(await edgeConfigNow(deps)).includes(HTTP_PORT)) return
  if (!listeningPorts(await deps.target.host.tcpSockets()).has(HTTP_PORT)) return
  throw new PreflightError(
    `${env.name}: port ${HTTP_PORT} is taken on the edge's host by something other than the edge, and the edge needs it to redirect ${hosts.join(', ')} to https (routes with tls on listen 443)`,
    `Stop what listens on port ${HTTP_PORT} there (ss -ltnp 'sport = :${HTTP_PORT}' names it), or give those routes another listen port than 443 (they are then not redirected from port 80). Nothing was changed.`,
    'PORT_IN_USE',
  )
}

/**
 * Networks the next deploy of a blue-green environment takes from the engine's pools: those of the stateful
 * project and of the colour it would bring up (each colour has its own when nothing is stateful).
 */
async function plannedNetworks(e: Env, model: ComposeModel): Promise<string[]> {
  const { live } = await readColours(e.target.state, e.env.name)
  const colour: Colour = live ? otherColour(live) : 'blue'
  const split = splitConfig(model, e.env, colour, {})
  return [
    ...(split.stateful ? poolNetworks(parse(split.stateful) as ComposeModel, e.env.project) : []),
    ...poolNetworks(parse(split.colour) as ComposeModel, colourProject(e.env, colour)),
  ]
}
