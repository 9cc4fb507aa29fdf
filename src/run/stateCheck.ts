import type { Config, EnvironmentConfig } from '../config/types.js'
import { readReleases } from '../state/releases.js'
import { strategyOf, type Strategy } from '../strategy/strategy.js'
import type { Deps } from './context.js'

/**
 * Before a deploy, rollback or down changes anything — before it takes the lock, which is audited — the
 * records it will rewrite must read (a damaged file exits 2, STATE_DAMAGED), and so must what its strategy
 * keeps and needs. A damaged lock is refused when the lock is taken, also before anything changes.
 */
export async function refuseDamagedState(deps: Deps, config: Config, env: EnvironmentConfig, strategy: Strategy = strategyOf(env)): Promise<void> {
  await readReleases(deps.target.state, env.name)
  await strategy.beforeChange(deps, config, env)
}
