import type { EnvironmentConfig } from '../config/types.js'
import { psByLabels } from '../docker/docker.js'
import { type Container, parsePs } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import { type ComposeModel, publishedPorts } from '../release/model.js'
import type { Deps } from '../run/context.js'
import { LABEL } from '../names.js'

/** SPEC §5: a fixed container_name would collide with the same service of every other environment. */
export function refuseFixedNames(model: ComposeModel, env: EnvironmentConfig): void {
  const fixed = Object.entries(model.services).filter(([, s]) => s.container_name).map(([name, s]) => `${name} (container_name: ${s.container_name})`)
  if (fixed.length > 0) {
    throw new PreflightError(
      `${env.name}: ${fixed.join(', ')} ${fixed.length === 1 ? 'has a' : 'have a'} fixed container_name, which would collide across environments`,
      'Remove container_name: compose names containers <project>-<service>-N, and the project is <app>-<env>.',
      'FIXED_CONTAINER_NAME',
    )
  }
}

export interface HostPort {
  hostIp: string
  port: number
  protocol: string
}

/** "0.0.0.0:18181->8080/tcp, [::]:18181->8080/tcp, 8080/tcp" → the published host ports. */
export function parsePublished(ports: string): HostPort[] {
  const out: HostPort[] = []
  for (const m of ports.matchAll(/(?:(\[[0-9a-fA-F:]*\]|[\d.]+):)(\d+)(?:-(\d+))?->\d+(?:-\d+)?\/(tcp|udp|sctp)/g)) {
    const first = Number(m[2])
    const last = m[3] ? Number(m[3]) : first
    for (let port = first; port <= last; port++) out.push({ hostIp: (m[1] ?? '').replace(/^\[|\]$/g, ''), port, protocol: m[4] ?? 'tcp' })
  }
  return out
}

function overlaps(a: string, b: string): boolean {
  const any = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::'
  return any(a) || any(b) || a === b
}

export interface PortClash {
  port: number
  protocol: string
  service: string
  holder: string
}

/** Whose a container is, for refusals: its compose project and berth environment, or that it was started by hand. */
export function describeContainer(c: Container): string {
  const env = c.labels[LABEL.env]
  return c.project ? `compose project ${c.project}${env ? ` (berth environment ${env})` : ''}, container ${c.name}` : `container ${c.name}, started outside compose`
}

/** Host ports the model would publish that a running container of another project already publishes. */
export function findPortClashes(model: ComposeModel, project: string, running: readonly Container[]): PortClash[] {
  const wanted = publishedPorts(model)
  const clashes: PortClash[] = []
  for (const c of running) {
    if (c.state !== 'running' || c.project === project) continue
    for (const held of parsePublished(c.ports)) {
      for (const w of wanted) {
        if (Number(w.port) === held.port && w.protocol === held.protocol && overlaps(w.hostIp, held.hostIp)) {
          const holder = describeContainer(c)
          if (!clashes.some((x) => x.port === held.port && x.holder === holder)) clashes.push({ port: held.port, protocol: held.protocol, service: w.service, holder })
        }
      }
    }
  }
  return clashes
}

/** SPEC §5: refuse when a port this environment would publish is published by another project. */
export async function refusePortClashes(deps: Deps, model: ComposeModel, env: EnvironmentConfig): Promise<void> {
  // A blue-green environment's public ports are its routes' listen ports, which the edge will own.
  const wanted: ComposeModel =
    env.strategy === 'blue-green'
      ? { services: { ...model.services, 'edge route': { ports: env.routes.map((r) => ({ target: r.port, published: String(r.listen) })) } } }
      : model
  if (publishedPorts(wanted).length === 0) return
  const { stdout } = await deps.run(psByLabels(deps.target.engine, []))
  const own = new Set([env.project, `${env.project}-blue`, `${env.project}-green`])
  const clashes = findPortClashes(wanted, env.project, parsePs(stdout).filter((c) => !own.has(c.project ?? '')))
  if (clashes.length === 0) return
  throw new PreflightError(
    `${env.name}: ${clashes.map((c) => `host port ${c.port}/${c.protocol} (service ${c.service}) is already published by ${c.holder}`).join('; ')}`,
    `Give ${env.name} its own port in ${env.envFile}, or stop what holds it.`,
    'PORT_IN_USE',
  )
}

/**
 * SPEC §9: both colours run at once during a switch, so a colour service cannot publish a host port
 * itself — the edge owns the public ports. Stateful and routed services must exist in the compose files.
 */
export function refuseBlueGreenModel(model: ComposeModel, env: EnvironmentConfig): void {
  if (env.strategy !== 'blue-green') return
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
