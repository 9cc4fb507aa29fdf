import type { Config, EnvironmentConfig } from '../config/types.js'
import { psAll } from '../docker/docker.js'
import { parsePs } from '../docker/parse.js'
import { BerthError } from '../errors.js'
import { findUnmanaged, type UnmanagedContainer } from '../inspect/unmanaged.js'
import { addressPoolUsage } from '../preflight/addressPools.js'
import { readAddressSpace } from '../preflight/networkPool.js'
import { sharedNameFindings } from '../preflight/sharedNetworks.js'
import type { Deps } from '../run/context.js'
import { strategyOf } from '../strategy/strategy.js'
import { readActiveRelease } from './activeRelease.js'
import type { Check } from './check.js'
import { diskCheck } from './checks/disk.js'
import { driftCheck, type NamedDrift, readDrift } from './checks/drift.js'
import { engineChecks, engineDown, hostUnreachable, readEngine, unreachableCheck } from './checks/engine.js'
import { lockCheck, readLocks } from './checks/locks.js'
import { configuredPoolCheck, networkPoolCheck } from './checks/networkPools.js'
import { portCheck } from './checks/ports.js'
import { readRestartPolicies, restartCheck } from './checks/restartPolicies.js'
import { sharedNetworkCheck } from './checks/sharedNetworks.js'
import { readStateFindings, stateCheck } from './checks/state.js'
import { unmanagedCheck } from './checks/unmanaged.js'

/** What doctor finds on one engine: its checks (env files aside, which are the operator's), and what they found. */
export interface EngineFindings {
  checks: Check[]
  unmanaged: UnmanagedContainer[]
  drift: NamedDrift[]
}

export interface EngineScope {
  /** The environments deploy.yml runs on this engine. */
  envs: readonly EnvironmentConfig[]
  /** The environments whose lock and state files are checked in this engine's state store (read once it is reachable). */
  stateEnvs: () => Promise<string[]>
}

/**
 * The checks of one engine (`deps` aimed at it) for the environments that run there. Checks that need the
 * engine are reported as not checked when it does not answer, while the state store still reads; a host that
 * cannot be reached at all (SSH refused, timed out) is one failed finding, since nothing of it can be read.
 * Docker calls: version, compose version, one `ps` of the engine, one `inspect` of the app's containers there,
 * and the `info` and network listings of the address pools and the disk, however many environments it runs.
 */
export async function engineDoctor(deps: Deps, config: Config, scope: EngineScope, local: boolean): Promise<EngineFindings> {
  const engine = await readEngine(deps)
  if (engine instanceof BerthError && !local && hostUnreachable(engine)) {
    return { checks: [unreachableCheck(engine, scope.envs.map((e) => e.name))], unmanaged: [], drift: [] }
  }
  const actives = await Promise.all(scope.envs.map(async (env) => readActiveRelease(deps, env)))
  const stateEnvs = await scope.stateEnvs()
  const locks = lockCheck(await readLocks(deps.target.state, stateEnvs), deps.target.runs)
  const state = stateCheck(await readStateFindings(deps.target.state, stateEnvs))
  if (engine instanceof BerthError) {
    const checks = [
      ...engineChecks(engine),
      engineDown('restart-policies'),
      engineDown('unmanaged'),
      engineDown('drift'),
      portCheck(actives, undefined),
      engineDown('shared-networks'),
      engineDown('network-pools'),
      locks,
      state,
      engineDown('disk'),
    ]
    return { checks, unmanaged: [], drift: [] }
  }
  const { envs } = scope
  const containers = parsePs((await deps.run(psAll(deps.target.engine))).stdout, deps.target.labels)
  const restarts = await readRestartPolicies(deps, envs, containers)
  const unmanaged = findUnmanaged(config.app, envs.map((e) => e.name), containers)
  const drift = await readDrift(deps, config, actives, containers, engine.compose)
  const checks = [
    ...engineChecks(engine),
    restartCheck(actives, restarts.containers, restarts.policies),
    unmanagedCheck(unmanaged),
    driftCheck(drift, actives),
    portCheck(actives, containers),
    sharedNetworkCheck(sharedNameFindings(envs, containers)),
    config.networkPool ? configuredPoolCheck(config.networkPool, await readAddressSpace(deps)) : networkPoolCheck(await addressPoolUsage(deps)),
    locks,
    state,
    await diskCheck(deps),
    ...(await strategyChecks(deps, config, envs)),
  ]
  return { checks, unmanaged, drift }
}

/** What each strategy of the engine's environments checks there (blue-green: the edge), once per strategy. */
async function strategyChecks(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check[]> {
  const strategies = [...new Set(envs.map((env) => strategyOf(env)))]
  const checks = await Promise.all(strategies.map((strategy) => strategy.hostChecks(deps, config, envs.filter((env) => strategyOf(env) === strategy))))
  return checks.flat()
}
