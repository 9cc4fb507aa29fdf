import type { NetworkPool } from '../config/types.js'
import { defaultAddressPools, networkNames, networkSubnets } from '../docker/docker.js'
import { parseJsonLines } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import type { ComposeModel } from '../release/model.js'
import type { Deps } from '../run/context.js'
import { readAddressSpace, refuseFullPool } from './networkPool.js'

/**
 * Every compose network (an environment's default network, each blue-green colour's) takes one subnet from the
 * engine's default address pools. Docker's built-in pools hold 31 (the default bridge takes one of them), and
 * Docker also skips every pool subnet that overlaps a route of the host. A deploy that needs a network the
 * engine cannot allocate would fail half-way through `up`: berth counts first and refuses (issue: the network
 * ceiling). IPv4 only: compose networks are IPv4 unless configured otherwise.
 */

export interface Pool {
  base: string
  size: number
}

/** libnetwork's built-in local pools (ipamutils), used when the daemon sets no default-address-pools. */
export const DOCKER_DEFAULT_POOLS: readonly Pool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]

/** The pools of `docker info`'s DefaultAddressPools (null: Docker's own). */
export function parsePools(json: string): Pool[] {
  const value = JSON.parse(json.trim() || 'null') as { Base?: string; Size?: number }[] | null
  if (!Array.isArray(value) || value.length === 0) return [...DOCKER_DEFAULT_POOLS]
  return value.flatMap((p) => (typeof p.Base === 'string' && typeof p.Size === 'number' ? [{ base: p.Base, size: p.Size }] : []))
}

interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  addr: number
  prefix: number
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text.trim())
  if (!m) return undefined
  const octets = m.slice(1, 5).map(Number)
  const prefix = Number(m[5])
  if (octets.some((o) => o > 255) || prefix > 32) return undefined
  const addr = octets.reduce((a, o) => a * 256 + o, 0)
  const block = 2 ** (32 - prefix)
  return { addr: addr - (addr % block), prefix }
}

export interface PoolUsage {
  /** Subnets the pools hold in all. */
  capacity: number
  /** Of those, taken by a network or overlapping a host route. */
  used: number
  free: number
}

/** How many pool subnets are taken by the given ranges (networks' subnets, host routes), each subnet counted once. */
export function poolUsage(pools: readonly Pool[], taken: readonly string[]): PoolUsage {
  const ranges = taken.flatMap((t) => parseCidr(t) ?? [])
  let capacity = 0
  let used = 0
  for (const pool of pools) {
    const base = parseCidr(pool.base)
    if (!base || pool.size < base.prefix || pool.size > 32) continue
    const slot = 2 ** (32 - pool.size)
    const slots = 2 ** (pool.size - base.prefix)
    capacity += slots
    const end = base.addr + slots * slot
    // Each overlapping range covers a run of slots: merge the runs, so a route and the network it belongs to count once.
    const runs = ranges
      .map((r) => ({ from: Math.max(r.addr, base.addr), to: Math.min(r.addr + 2 ** (32 - r.prefix), end) }))
      .filter((r) => r.from < r.to)
      .map((r) => ({ first: Math.floor((r.from - base.addr) / slot), last: Math.floor((r.to - 1 - base.addr) / slot) }))
      .sort((a, b) => a.first - b.first)
    let reach = -1
    for (const run of runs) {
      if (run.last <= reach) continue
      used += run.last - Math.max(run.first, reach + 1) + 1
      reach = run.last
    }
  }
  return { capacity, used, free: capacity - used }
}

/** IPv4 routes of /proc/net/route (little-endian hex), default route left out, as CIDRs. */
export function parseRoutes(table: string): string[] {
  const out: string[] = []
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const dest = hexToIp(f[1] as string)
    const mask = parseInt(f[7] as string, 16)
    if (dest === undefined || Number.isNaN(mask) || mask === 0) continue
    const prefix = 32 - Math.log2(2 ** 32 - byteSwap(mask))
    if (Number.isInteger(prefix)) out.push(`${dest}/${prefix}`)
  }
  return [...new Set(out)]
}

function byteSwap(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0
}

function hexToIp(hex: string): string | undefined {
  const n = parseInt(hex, 16)
  if (Number.isNaN(n)) return undefined
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.')
}

/** A network compose creates for a project: its key in the compose file and the name the engine knows it by. */
export interface ProjectNetwork {
  key: string
  name: string
}

/**
 * The networks compose would create for a document applied as `project`: those its services use that are not
 * external and take their subnet from the pools (no ipam subnet of their own). Resolved configs list every
 * service's networks (`default` included); a service without any has a network_mode of its own.
 */
export function projectNetworks(doc: ComposeModel, project: string): ProjectNetwork[] {
  const keys = new Set(Object.values(doc.services).flatMap((s) => Object.keys(s.networks ?? {})))
  return [...keys].sort().flatMap((key) => {
    const spec = doc.networks?.[key]
    if (spec?.external || spec?.ipam?.config?.some((c) => c.subnet)) return []
    return [{ key, name: spec?.name ?? `${project}_${key}` }]
  })
}

/** Names of the networks compose would create for a document applied as `project` (see projectNetworks). */
export function poolNetworks(doc: ComposeModel, project: string): string[] {
  return projectNetworks(doc, project).map((n) => n.name)
}

/** The engine's pools and what takes from them now: one `info`, one `network ls`, one `network inspect`, the host's routes. */
export async function addressPoolUsage(deps: Pick<Deps, 'run' | 'target'>): Promise<PoolUsage & { pools: Pool[]; networks: string[] }> {
  const [info, names, routes] = await Promise.all([
    deps.run(defaultAddressPools(deps.target.engine)),
    deps.run(networkNames(deps.target.engine)),
    deps.target.host.routes(),
  ])
  const networks = names.stdout.split('\n').map((n) => n.trim()).filter(Boolean)
  const inspected = networks.length ? parseJsonLines((await deps.run(networkSubnets(deps.target.engine, networks), { allowFailure: true })).stdout) : []
  const subnets = inspected.flatMap((n) => ((n.ipam ?? []) as { Subnet?: string }[]).flatMap((c) => (c.Subnet ? [c.Subnet] : [])))
  const pools = parsePools(info.stdout)
  return { ...poolUsage(pools, [...subnets, ...parseRoutes(routes)]), pools, networks }
}

/** Where to widen the pools: one /16 split into /24s gives 256 networks (it replaces Docker's built-in pools). */
export const POOL_SNIPPET = '{"default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]}'

/**
 * Preflight: refuse a deploy that needs more new networks than the engine's address pools have left, or, with
 * deploy.yml's network_pool, than that pool has left.
 */
export async function refuseNetworkCeiling(deps: Pick<Deps, 'run' | 'target'>, envName: string, wanted: readonly string[], pool?: NetworkPool): Promise<void> {
  if (wanted.length === 0) return
  const existing = new Set((await deps.run(networkNames(deps.target.engine))).stdout.split('\n').map((n) => n.trim()))
  const needed = [...new Set(wanted)].filter((n) => !existing.has(n))
  if (needed.length === 0) return
  if (pool) return refuseFullPool(await readAddressSpace(deps), pool, envName, needed)
  const usage = await addressPoolUsage(deps)
  if (needed.length <= usage.free) return
  throw new PreflightError(
    `${envName} needs ${needed.length} new network${needed.length === 1 ? '' : 's'} (${needed.join(', ')}), but the engine's address pools ${usage.free === 0 ? 'are full' : `have room for ${usage.free} only`}: they hold ${usage.capacity} networks and ${usage.used} are in use (networks, and host routes Docker avoids)`,
    `Widen the pools: set in /etc/docker/daemon.json ${POOL_SNIPPET} (pick a base no route of the host uses), then restart dockerd; existing networks keep their subnets. Or remove networks nothing uses: docker network ls. See: berth doctor`,
    'NETWORK_POOLS_FULL',
  )
}
