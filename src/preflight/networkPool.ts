import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from '../crypto.js'

import { parse } from 'yaml'

import type { NetworkPool } from '../config/types.js'
import type { ComposeProject } from '../docker/compose.js'
import { defaultAddressPools, networkNames, networkSubnets } from '../docker/docker.js'
import { parseJsonLines } from '../docker/parse.js'
import type { ComposeModel } from '../release/model.js'
import { PreflightError } from '../errors.js'
import type { Deps } from '../run/context.js'
import { localFiles } from '../target/files.js'
import { parseCidr, parsePools, parseRoutes, poolUsage, projectNetworks } from './addressPools.js'

/**
 * deploy.yml's `network_pool` (issue: hundreds of environments per host). The engine's default address pools hold
 * about 30 networks; with a pool, each network an environment's project creates gets a small subnet of its own,
 * given to compose in an override file beside the applied one (networks.<project>.yaml in the work directory), so
 * compose still creates, labels and removes the network itself. A subnet is free when it overlaps no network of the
 * engine, no route of the host and none of the engine's own pools (where Docker takes the subnets of networks
 * created without one). A network that exists already keeps the subnet it has.
 */

/** How many subnets of the pool are free of the given ranges. */
export function poolRoom(pool: NetworkPool, taken: readonly string[]): number {
  return poolUsage([pool], taken).free
}

/**
 * `count` free subnets of the pool, or undefined when it has fewer. The scan starts at a slot derived from `seed`
 * (the project) and wraps around: two environments deploying at the same moment then rarely pick the same subnet
 * (and if they do, the engine refuses the second network: nothing overlaps).
 */
export function allocateSubnets(pool: NetworkPool, count: number, taken: readonly string[], seed: string): string[] | undefined {
  const base = parseCidr(pool.base)
  if (!base || pool.size < base.prefix) return undefined
  const slot = 2 ** (32 - pool.size)
  const slots = 2 ** (pool.size - base.prefix)
  const ranges = taken.flatMap((t) => {
    const r = parseCidr(t)
    return r ? [{ from: r.addr, to: r.addr + 2 ** (32 - r.prefix) }] : []
  })
  const start = createHash('sha256').update(seed).digest().readUInt32BE(0) % slots
  const out: string[] = []
  for (let i = 0; i < slots && out.length < count; i++) {
    const from = base.addr + ((start + i) % slots) * slot
    const to = from + slot
    if (ranges.some((r) => r.from < to && from < r.to)) continue
    out.push(`${ipv4(from)}/${pool.size}`)
    ranges.push({ from, to })
  }
  return out.length === count ? out : undefined
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.')
}

/** The override compose merges into the applied file: each network's ipam subnet. */
export function networkOverride(subnets: Readonly<Record<string, string>>): string {
  const lines = ['# berth: subnets from deploy.yml\'s network_pool (one per network of this project)', 'networks:']
  for (const [key, subnet] of Object.entries(subnets).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${JSON.stringify(key)}:`, '    ipam:', '      config:', `        - subnet: ${JSON.stringify(subnet)}`)
  }
  return `${lines.join('\n')}\n`
}

/** What takes address space on the engine's host now: networks' subnets (by name), host routes, the engine's pools. */
export interface AddressSpace {
  /** Subnets of the engine's networks, by network name. */
  networks: Map<string, string[]>
  routes: string[]
  pools: string[]
}

/** One `network ls`, one `network inspect`, one `info` and the host's routes. */
export async function readAddressSpace(deps: Pick<Deps, 'run' | 'target'>): Promise<AddressSpace> {
  const { engine } = deps.target
  const [names, info, routes] = await Promise.all([deps.run(networkNames(engine)), deps.run(defaultAddressPools(engine)), deps.target.host.routes()])
  const listed = names.stdout.split('\n').map((n) => n.trim()).filter(Boolean)
  const inspected = listed.length ? parseJsonLines((await deps.run(networkSubnets(engine, listed), { allowFailure: true })).stdout) : []
  const networks = new Map(
    inspected.map((n) => [String(n.name ?? ''), ((n.ipam ?? []) as { Subnet?: string }[]).flatMap((c) => (c.Subnet && parseCidr(c.Subnet) ? [c.Subnet] : []))]),
  )
  return { networks, routes: parseRoutes(routes), pools: parsePools(info.stdout).map((p) => p.base) }
}

/** Everything a new subnet must not overlap. */
export function takenSpace(space: AddressSpace): string[] {
  return [...[...space.networks.values()].flat(), ...space.routes, ...space.pools]
}

/**
 * The project to `up` with its networks' subnets from the pool: the target unchanged without a network_pool
 * or when none of its networks is new; otherwise with the override file added.
 */
export async function withNetworkPool(deps: Pick<Deps, 'run' | 'target'>, pool: NetworkPool | undefined, envName: string, target: ComposeProject): Promise<ComposeProject> {
  if (!pool) return target
  const doc = parse(await readFile(target.files[0] as string, 'utf8')) as ComposeModel
  const networks = projectNetworks(doc, target.project)
  if (networks.length === 0) return target
  const space = await readAddressSpace(deps)
  const fresh = networks.filter((n) => !space.networks.has(n.name))
  const subnets = allocateSubnets(pool, fresh.length, takenSpace(space), target.project)
  if (!subnets) {
    refuseFullPool(space, pool, envName, fresh.map((n) => n.name))
    throw new Error(`network_pool ${pool.base}: no free subnet for ${fresh.map((n) => n.name).join(', ')}`)
  }
  const assigned: Record<string, string> = {}
  for (const n of networks) {
    // An existing network keeps its subnet (compose leaves it as it is; the override says what it has).
    const current = space.networks.get(n.name)?.[0]
    const subnet = current ?? subnets[fresh.indexOf(n)]
    if (subnet) assigned[n.key] = subnet
  }
  const file = join(deps.target.state.workDir, envName, `networks.${target.project}.yaml`)
  await localFiles.writeAtomic(file, networkOverride(assigned))
  return { ...target, files: [...target.files, file] }
}

/** Refuses (NETWORK_POOL_FULL) when the pool has no room for the networks `needed`. */
export function refuseFullPool(space: AddressSpace, pool: NetworkPool, envName: string, needed: readonly string[]): void {
  const room = poolRoom(pool, takenSpace(space))
  if (needed.length <= room) return
  const slots = 2 ** (pool.size - Number(pool.base.split('/')[1]))
  throw new PreflightError(
    `${envName} needs ${needed.length} new network${needed.length === 1 ? '' : 's'} (${needed.join(', ')}), but network_pool ${pool.base} in /${pool.size}s has room for ${room} of its ${slots} (the rest overlap the engine's networks, its address pools or the host's routes)`,
    `Give network_pool a wider base or a smaller subnet size in deploy.yml, or take down environments nothing uses (berth prune --expired). See: berth doctor`,
    'NETWORK_POOL_FULL',
  )
}
