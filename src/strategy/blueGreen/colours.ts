import { createHash } from '../../crypto.js'

import { parse, stringify } from 'yaml'

import type { EnvironmentConfig, HttpProbe, Route } from '../../config/types.js'
import type { ComposeModel, ServiceModel } from '../../release/model.js'
import { type Colour, COLOUR_LABEL } from '../../names.js'

/**
 * SPEC §9 blue-green: the environment's stateless services run as two compose projects,
 * <app>-<env>-blue and <app>-<env>-green; stateful services stay in <app>-<env>, shared. This module holds
 * the pure parts: upstream ports and splitting a release's resolved config (what each colour holds is
 * state/colours.ts).
 */

export const upstreamKey = (r: Pick<Route, 'service' | 'port'>): string => `${r.service}:${r.port}`

export interface PortRange {
  first: number
  size: number
}

/** Linux's default ephemeral range, assumed when the host's cannot be read. */
const DEFAULT_EPHEMERAL = { low: 32768, high: 60999 }
const LOWEST = 1024
const WIDEST = 10000

/**
 * Where upstream ports come from: outside the host's ephemeral range (`net.ipv4.ip_local_port_range`, the
 * contents of /proc/sys/net/ipv4/ip_local_port_range), where an outgoing connection could hold the very port a
 * colour is about to publish. Up to 10,000 ports just below the range, else just above it.
 */
export function upstreamRange(ephemeral: string | undefined): PortRange {
  const [low, high] = (ephemeral ?? '').trim().split(/\s+/).map(Number)
  const lo = Number.isInteger(low) && Number.isInteger(high) && (low as number) <= (high as number) ? (low as number) : DEFAULT_EPHEMERAL.low
  const hi = lo === low ? (high as number) : DEFAULT_EPHEMERAL.high
  const below = { first: Math.max(LOWEST, lo - WIDEST), size: Math.max(0, lo - Math.max(LOWEST, lo - WIDEST)) }
  const above = { first: hi + 1, size: Math.max(0, Math.min(WIDEST, 65535 - hi)) }
  return below.size >= above.size ? below : above
}

/**
 * Loopback ports the colour publishes its routed services on, in `range` (upstreamRange). Stable per
 * app/env/colour/service so an engine restart brings the same ports back; a port taken by anything else moves
 * to the next free one. Ports already allocated are kept, wherever they are.
 */
export function allocateUpstreams(
  app: string,
  env: EnvironmentConfig,
  colour: Colour,
  current: Record<string, number>,
  taken: ReadonlySet<number>,
  range: PortRange = upstreamRange(undefined),
): Record<string, number> {
  const out: Record<string, number> = {}
  const used = new Set(taken)
  for (const route of env.routes) {
    const key = upstreamKey(route)
    if (out[key] !== undefined) continue
    const existing = current[key]
    if (existing !== undefined) {
      out[key] = existing
      used.add(existing)
      continue
    }
    const seed = createHash('sha256').update(`${app}/${env.name}/${colour}/${key}`).digest().readUInt32BE(0)
    let port = range.first + (seed % range.size)
    while (used.has(port)) port = range.first + ((port - range.first + 1) % range.size)
    out[key] = port
    used.add(port)
  }
  return out
}

interface ComposeDoc extends ComposeModel {
  name?: string
  networks?: Record<string, Record<string, unknown> | null>
  volumes?: Record<string, unknown>
  services: Record<string, ServiceModel & Record<string, unknown>>
}

function networksOf(svc: ServiceModel & Record<string, unknown>): string[] {
  const n = svc.networks
  if (Array.isArray(n)) return n as string[]
  return n && typeof n === 'object' ? Object.keys(n) : []
}

function volumesOf(svc: ServiceModel & Record<string, unknown>): string[] {
  const v = svc.volumes
  if (!Array.isArray(v)) return []
  return v.flatMap((m) => (m && typeof m === 'object' && (m as { type?: string }).type === 'volume' && (m as { source?: string }).source ? [(m as { source: string }).source] : []))
}

function pick<T>(from: Record<string, T> | undefined, keys: Iterable<string>): Record<string, T> | undefined {
  if (!from) return undefined
  const out: Record<string, T> = {}
  for (const k of keys) if (Object.hasOwn(from, k)) out[k] = from[k] as T
  return Object.keys(out).length ? out : undefined
}

export interface SplitConfig {
  /** The stateful project's compose file (undefined when the environment has no stateful service). */
  stateful?: string
  /** The colour project's compose file. */
  colour: string
}

/**
 * Splits a release's resolved config (compose's own `config` output, so names and paths are resolved)
 * into the shared stateful project and one colour project. Colour services join the stateful project's
 * networks as external networks, so they still reach `db` by its name; they lose their depends_on on
 * stateful services (another project) and their published ports, and publish each routed port on
 * 127.0.0.1 only, where the edge finds it. `resolved` is that output's text, or the model parsed from it.
 */
export function splitConfig(resolved: string | ComposeModel, env: EnvironmentConfig, colour: Colour, upstreams: Record<string, number>): SplitConfig {
  // Given parsed (the caller's model of the same text), it is read, never changed.
  const doc = (typeof resolved === 'string' ? parse(resolved) : resolved) as ComposeDoc
  const stateful = new Set(env.stateful)
  const statefulServices = Object.entries(doc.services).filter(([name]) => stateful.has(name))
  const colourServices = Object.entries(doc.services).filter(([name]) => !stateful.has(name))

  const statefulNetworks = new Set(statefulServices.flatMap(([, s]) => networksOf(s)))
  const statefulDoc = statefulServices.length
    ? {
        services: Object.fromEntries(statefulServices),
        ...(pick(doc.networks, statefulNetworks) ? { networks: pick(doc.networks, statefulNetworks) } : {}),
        ...(pick(doc.volumes, statefulServices.flatMap(([, s]) => volumesOf(s))) ? { volumes: pick(doc.volumes, statefulServices.flatMap(([, s]) => volumesOf(s))) } : {}),
      }
    : undefined

  const services: Record<string, unknown> = {}
  for (const [name, svc] of colourServices) {
    const { ports: _ports, depends_on: dependsOn, labels, ...rest } = svc
    const ownDeps = Object.fromEntries(Object.entries(dependsOn ?? {}).filter(([dep]) => !stateful.has(dep)))
    const published = env.routes
      .filter((r) => r.service === name)
      .map((r) => ({ key: upstreamKey(r), port: r.port }))
      .filter((r, i, all) => all.findIndex((x) => x.key === r.key) === i)
      .map((r) => ({ target: r.port, published: String(upstreams[r.key]), host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }))
    services[name] = {
      ...rest,
      labels: { ...(labels ?? {}), [COLOUR_LABEL]: colour },
      ...(Object.keys(ownDeps).length ? { depends_on: ownDeps } : {}),
      ...(published.length ? { ports: published } : {}),
    }
  }
  const colourNetworkNames = new Set(colourServices.flatMap(([, s]) => networksOf(s)))
  const networks: Record<string, unknown> = {}
  for (const name of colourNetworkNames) {
    const spec = doc.networks?.[name] ?? {}
    // A network stateful services use belongs to the stateful project: the colour joins it.
    networks[name] = statefulNetworks.has(name) ? { name: (spec as { name?: string }).name ?? `${env.project}_${name}`, external: true } : spec
  }
  if (statefulNetworks.size === 0) {
    // Nothing stateful: each colour keeps its own networks, named after its own project (an external one keeps its name).
    for (const name of colourNetworkNames) {
      const spec = { ...((doc.networks?.[name] as Record<string, unknown>) ?? {}) }
      if (!spec.external) delete spec.name
      networks[name] = spec
    }
  }
  const volumes = pick(doc.volumes, colourServices.flatMap(([, s]) => volumesOf(s)))
  const colourDoc = { services, ...(Object.keys(networks).length ? { networks } : {}), ...(volumes ? { volumes } : {}) }
  return { ...(statefulDoc ? { stateful: stringify(statefulDoc) } : {}), colour: stringify(colourDoc) }
}

/**
 * A probe of a public route port is sent to the colour's own upstream instead (SPEC §9: the new colour is
 * checked directly, never through the edge), over plain HTTP as the edge reaches it, also when the route is
 * HTTPS on the edge (an https:// probe); other probes are left as they are.
 */
export function probesForColour(probes: readonly HttpProbe[], env: EnvironmentConfig, upstreams: Record<string, number>): HttpProbe[] {
  return probes.map((p) => {
    const url = new URL(p.url)
    const route = env.routes.find((r) => String(r.listen) === (url.port || (url.protocol === 'https:' ? '443' : '80')))
    if (!route) return p
    url.protocol = 'http:'
    url.hostname = '127.0.0.1'
    url.port = String(upstreams[upstreamKey(route)])
    return { ...p, url: url.toString() }
  })
}

/** The services of a model that run in the colour projects. */
export function colourModel(model: ComposeModel, env: EnvironmentConfig): ComposeModel {
  return { services: Object.fromEntries(Object.entries(model.services).filter(([name]) => !env.stateful.includes(name))) }
}

export function statefulModel(model: ComposeModel, env: EnvironmentConfig): ComposeModel {
  return { services: Object.fromEntries(Object.entries(model.services).filter(([name]) => env.stateful.includes(name))) }
}
