import type { NetworkPool } from '../../config/types.js'
import { parseCidr, POOL_SNIPPET, type PoolUsage } from '../../preflight/addressPools.js'
import { type AddressSpace, poolRoom, takenSpace } from '../../preflight/networkPool.js'
import { type Check, plural } from '../check.js'

/** Below this many free subnets, a few more environments (each colour takes one network) fill the pools. */
const FEW_NETWORKS = 5

/** How many more compose networks the engine's default address pools can give (each environment and colour takes one). */
export function networkPoolCheck(usage: PoolUsage): Check {
  const summary = `${usage.free} more network${plural(usage.free)} fit in the engine's address pools (${usage.used} of ${usage.capacity} in use)`
  if (usage.free >= FEW_NETWORKS) return { id: 'network-pools', status: 'ok', summary, details: [] }
  return {
    id: 'network-pools',
    status: 'warn',
    summary,
    details: [],
    hint: `A deploy that needs a new network is refused once they are full. Widen them in /etc/docker/daemon.json: ${POOL_SNIPPET}, then restart dockerd.`,
  }
}

/**
 * deploy.yml's network_pool: it must overlap none of the engine's own pools (Docker would hand the same addresses
 * to a network created without a subnet) and no route of the host (traffic to those addresses would go to the
 * containers); and how many more networks it has room for.
 */
export function configuredPoolCheck(pool: NetworkPool, space: AddressSpace): Check {
  const bridges = [...space.networks.values()].flat()
  const clashes = [
    ...space.pools.filter((p) => overlaps(p, pool.base)).map((p) => `${p} (an address pool of the engine)`),
    // The engine's own bridges are routes of the host too: those are networks, counted as taken, not clashes.
    ...space.routes.filter((r) => overlaps(r, pool.base) && !bridges.some((n) => within(r, n))).map((r) => `${r} (a route of the host)`),
  ]
  const room = poolRoom(pool, takenSpace(space))
  const summary = `network_pool ${pool.base} in /${pool.size}s has room for ${room} more network${plural(room)}`
  if (clashes.length > 0) {
    return {
      id: 'network-pools',
      status: 'fail',
      summary: `network_pool ${pool.base} overlaps ${clashes.length === 1 ? clashes[0] : `${clashes.length} ranges`}`,
      details: clashes.map((c) => `overlaps ${c}`),
      hint: 'Pick a network_pool base in deploy.yml that none of the engine\'s default-address-pools (docker info) and no host route (ip route) uses.',
    }
  }
  if (room >= FEW_NETWORKS) return { id: 'network-pools', status: 'ok', summary, details: [] }
  return { id: 'network-pools', status: 'warn', summary, details: [], hint: 'A deploy that needs a new network is refused once it is full: give network_pool a wider base in deploy.yml.' }
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a)
  const y = parseCidr(b)
  if (!x || !y) return false
  return x.addr < y.addr + 2 ** (32 - y.prefix) && y.addr < x.addr + 2 ** (32 - x.prefix)
}

/** Whether range `a` lies inside range `b`. */
function within(a: string, b: string): boolean {
  const x = parseCidr(a)
  const y = parseCidr(b)
  if (!x || !y) return false
  return x.prefix >= y.prefix && x.addr >= y.addr && x.addr + 2 ** (32 - x.prefix) <= y.addr + 2 ** (32 - y.prefix)
}
