import { join } from 'node:path'

import type { EnvironmentConfig } from '../../src/config/types.js'

/** A validated environment of app `shop` whose files live under `dir`, as loadConfig would give it. */
export function environmentConfig(name: string, dir: string): EnvironmentConfig {
  return {
    name,
    location: { kind: 'shell' },
    target: 'compose',
    project: `shop-${name}`,
    envFile: join(dir, 'environments', `${name}.env`),
    composeFiles: [join(dir, 'compose.yaml')],
    required: [],
    secrets: [],
    health: { timeoutMs: 60_000, intervalMs: 1000, http: [] },
    confirm: false,
    keep: 5,
    strategy: 'recreate',
    stateful: [],
    routes: [],
    drainMs: 10_000,
    idle: 'running',
    watchMs: 0,
    sharedNetworks: [],
    hooks: {},
    notify: [],
  }
}
