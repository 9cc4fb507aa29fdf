import type { Container } from '../docker/parse.js'
import { LABEL } from '../names.js'
import { type ComposeModel, publishedPorts } from '../release/model.js'

/**
 * Host ports (seed 003): what a container publishes, what a compose model would publish, and when two of them
 * are the same socket. Preflight refuses a deploy whose port another project holds; doctor compares recorded
 * configs with each other and with what runs.
 */
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

/** A model's published port ("8080", or a range "8000-8002") as the host ports it takes. */
export function expandPorts(p: { port: string; hostIp: string; protocol: string }): HostPort[] {
  const [first, last] = p.port.split('-').map(Number)
  if (first === undefined || Number.isNaN(first)) return []
  const end = last === undefined || Number.isNaN(last) ? first : last
  return Array.from({ length: end - first + 1 }, (_, i) => ({ port: first + i, protocol: p.protocol, hostIp: p.hostIp }))
}

/** The TCP ports something listens on, from /proc/net/tcp and /proc/net/tcp6 text: local address `…:0050`, state 0A (LISTEN). */
export function listeningPorts(procNetTcp: string): Set<number> {
  const out = new Set<number>()
  for (const line of procNetTcp.split('\n')) {
    const [, local, , state] = line.trim().split(/\s+/)
    const port = local ? /:([0-9A-Fa-f]{4})$/.exec(local)?.[1] : undefined
    if (state === '0A' && port) out.add(Number.parseInt(port, 16))
  }
  return out
}

/** Two bindings collide when port and protocol match and either listens on every address or both on the same. */
export function sameSocket(a: HostPort, b: HostPort): boolean {
  const any = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::'
  return a.port === b.port && a.protocol === b.protocol && (any(a.hostIp) || any(b.hostIp) || a.hostIp === b.hostIp)
}

/** Whose a container is, for refusals: its compose project and berth environment, or that it was started by hand. */
export function describeContainer(c: Container): string {
  const env = c.labels[LABEL.env]
  return c.project ? `compose project ${c.project}${env ? ` (berth environment ${env})` : ''}, container ${c.name}` : `container ${c.name}, started outside compose`
}

export interface PortClash {
  port: number
  protocol: string
  service: string
  holder: string
}

/** Host ports the model would publish that a running container of another project already publishes. */
export function findPortClashes(model: ComposeModel, project: string, running: readonly Container[]): PortClash[] {
  const wanted = publishedPorts(model).flatMap((p) => expandPorts(p).map((binding) => ({ ...binding, service: p.service })))
  const clashes: PortClash[] = []
  for (const c of running) {
    if (c.state !== 'running' || c.project === project) continue
    for (const held of parsePublished(c.ports)) {
      const w = wanted.find((x) => sameSocket(x, held))
      if (!w) continue
      const holder = describeContainer(c)
      if (!clashes.some((x) => x.port === held.port && x.holder === holder)) clashes.push({ port: held.port, protocol: held.protocol, service: w.service, holder })
    }
  }
  return clashes
}

/** Each published port of one model that a published port of the other takes too, with both services. */
export function sharedPorts(a: ComposeModel, b: ComposeModel): { port: HostPort; serviceA: string; serviceB: string }[] {
  const out: { port: HostPort; serviceA: string; serviceB: string }[] = []
  for (const pa of publishedPorts(a)) {
    for (const pb of publishedPorts(b)) {
      const shared = expandPorts(pa).find((x) => expandPorts(pb).some((y) => sameSocket(x, y)))
      if (shared) out.push({ port: shared, serviceA: pa.service, serviceB: pb.service })
    }
  }
  return out
}
