import type { Config, EnvironmentConfig } from '../config/types.js'
import { psAll } from '../docker/docker.js'
import { parsePs } from '../docker/parse.js'
import { BerthError, ExitCode } from '../errors.js'
import { addressPoolUsage } from '../preflight/addressPools.js'
import { sharedNameFindings } from '../preflight/sharedNetworks.js'
import type { Deps } from '../run/context.js'
import { environmentsWithState } from '../state/paths.js'
import { strategyOf } from '../strategy/strategy.js'
import { readActiveRelease } from './activeRelease.js'
import type { Check } from './check.js'
import { diskCheck } from './checks/disk.js'
import { driftCheck, type NamedDrift, readDrift } from './checks/drift.js'
import { engineChecks, engineDown, readEngine } from './checks/engine.js'
import { envFileCheck, readEnvFileMode } from './checks/envFiles.js'
import { lockCheck, readLocks } from './checks/locks.js'
import { networkPoolCheck } from './checks/networkPools.js'
import { portCheck } from './checks/ports.js'
import { readRestartPolicies, restartCheck } from './checks/restartPolicies.js'
import { sharedNetworkCheck } from './checks/sharedNetworks.js'
import { readStateFindings, stateCheck } from './checks/state.js'
import { unmanagedCheck } from './checks/unmanaged.js'
import { findUnmanaged, type UnmanagedContainer } from '../inspect/unmanaged.js'

export interface DoctorReport {
  app: string
  /** 0: every check ok or warn · 1: a check failed · 6: the engine or Compose v2 is unavailable. */
  exitCode: number
  checks: Check[]
  unmanaged: UnmanagedContainer[]
  drift: NamedDrift[]
}

/**
 * SPEC §4 doctor: host checks, each ok, warn or fail with a hint. Checks that need the engine are
 * reported as not checked when it does not answer; the others (env files, locks, ports between recorded
 * configs) still run. Docker calls: version, compose version, one `ps` of the host, one `inspect` of the
 * app's containers, and the `info` and network listings of the address pools and the disk, however many
 * environments there are.
 */
export async function doctor(config: Config, deps: Deps): Promise<DoctorReport> {
  const envs = [...config.environments.values()]
  const actives = await Promise.all(envs.map(async (env) => readActiveRelease(deps, env)))
  const engine = await readEngine(deps)
  const envNames = await environmentNames(deps, config)
  const envFiles = envFileCheck(await Promise.all(envs.map(readEnvFileMode)))
  const locks = lockCheck(await readLocks(deps.target.state, envNames), deps.target.runs)
  const state = stateCheck(await readStateFindings(deps.target.state, envNames))
  if (engine instanceof BerthError) {
    const checks = [
      ...engineChecks(engine),
      engineDown('restart-policies'),
      engineDown('unmanaged'),
      engineDown('drift'),
      portCheck(actives, undefined),
      engineDown('shared-networks'),
      engineDown('network-pools'),
      envFiles,
      locks,
      state,
      engineDown('disk'),
    ]
    return report(config.app, checks, [], [])
  }

  const containers = parsePs((await deps.run(psAll(deps.target.engine))).stdout, deps.target.labels)
  const restarts = await readRestartPolicies(deps, envs, containers)
  const unmanaged = findUnmanaged(config.app, [...config.environments.keys()], containers)
  const drift = await readDrift(deps, config, actives, containers, engine.compose)
  const checks = [
    ...engineChecks(engine),
    restartCheck(actives, restarts.containers, restarts.policies),
    unmanagedCheck(unmanaged),
    driftCheck(drift, actives),
    portCheck(actives, containers),
    sharedNetworkCheck(sharedNameFindings(envs, containers)),
    networkPoolCheck(await addressPoolUsage(deps)),
    envFiles,
    locks,
    state,
    await diskCheck(deps),
    ...(await strategyChecks(deps, config, envs)),
  ]
  return report(config.app, checks, unmanaged, drift)
}

/** Every environment of deploy.yml, and every other one with state (their images and locks still count). */
async function environmentNames(deps: Deps, config: Config): Promise<string[]> {
  return [...new Set([...config.environments.keys(), ...(await environmentsWithState(deps.target.state))])].sort()
}

/** What each strategy of the app's environments checks on the host (blue-green: the edge), once per strategy. */
async function strategyChecks(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check[]> {
  const strategies = [...new Set(envs.map((env) => strategyOf(env)))]
  const checks = await Promise.all(strategies.map((strategy) => strategy.hostChecks(deps, config, envs.filter((env) => strategyOf(env) === strategy))))
  return checks.flat()
}

function report(app: string, checks: Check[], unmanaged: UnmanagedContainer[], drift: NamedDrift[]): DoctorReport {
  return { app, exitCode: doctorExitCode(checks), checks, unmanaged, drift }
}

/** 6 when the engine or Compose is unavailable (as every command, SPEC §4), else 1 when any check failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => (c.id === 'engine' || c.id === 'compose') && c.status === 'fail')) return ExitCode.engineUnavailable
  return checks.some((c) => c.status === 'fail') ? ExitCode.unexpected : ExitCode.ok
}
