import type { EnvironmentConfig } from '../config/types.js'
import { COLOURS, colourProject } from '../names.js'

/**
 * How an environment runs (STYLE.md, "two seams"): `recreate` (compose's own update) or `blue-green` (two
 * colour projects behind the edge). Everything that differs between them is asked of this interface; the
 * run frame (deploy, rollback, down, logs, compose, status, doctor) stays the same for both.
 */
export interface Strategy {
  readonly name: EnvironmentConfig['strategy']
  /** Every compose project the environment owns. */
  projects(env: EnvironmentConfig): string[]
}

const recreate: Strategy = {
  name: 'recreate',
  projects: (env) => [env.project],
}

const blueGreen: Strategy = {
  name: 'blue-green',
  projects: (env) => [env.project, ...COLOURS.map((c) => colourProject(env, c))],
}

export function strategyOf(env: Pick<EnvironmentConfig, 'strategy'>): Strategy {
  return env.strategy === 'blue-green' ? blueGreen : recreate
}
