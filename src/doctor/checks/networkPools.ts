import { POOL_SNIPPET, type PoolUsage } from '../../preflight/addressPools.js'
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
