import type { Config, EnvironmentConfig } from '../config/types.js'
import type { Container } from '../docker/parse.js'
import { type EnvironmentDrift, environmentDrift } from '../inspect/drift.js'
import type { Deps } from '../run/context.js'
import type { ReleaseRecord } from '../state/releases.js'
import type { Strategy } from './strategy.js'

/** Drift of a compose strategy: judged on what serves (a blue-green environment's idle colour is stopped on purpose). */
export async function composeDrift(
  strategy: Pick<Strategy, 'serving'>,
  deps: Deps,
  config: Config,
  env: EnvironmentConfig,
  active: ReleaseRecord | undefined,
  containers: readonly Container[],
  composeVersion: string,
): Promise<EnvironmentDrift> {
  const serving = await strategy.serving(deps, config, env)
  return environmentDrift(active, containers.filter((c) => serving.includes(c.project ?? '')), composeVersion)
}
