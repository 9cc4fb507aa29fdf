import type { Config } from '../../config/types.js'
import type { Container } from '../../docker/parse.js'
import type { Deps } from '../../run/context.js'
import type { EnvironmentDrift } from '../../inspect/drift.js'
import { strategyOf } from '../../strategy/strategy.js'
import type { ActiveRelease } from '../activeRelease.js'
import { type Check, plural } from '../check.js'

/** One environment's drift; `engine` names its engine when it is not the shell's. */
export type NamedDrift = { environment: string; engine?: string } & EnvironmentDrift

/**
 * Each environment's drift from its active release, from the one host listing. An environment whose records
 * are damaged has no baseline to compare with: the state check reports it.
 */
export async function readDrift(deps: Deps, config: Config, actives: readonly ActiveRelease[], containers: readonly Container[], composeVersion: string): Promise<NamedDrift[]> {
  return Promise.all(
    actives.filter((a) => !a.damaged).map(async ({ env, record }) => {
      const strategy = strategyOf(env)
      const own = containers.filter((c) => strategy.projects(env).includes(c.project ?? ''))
      return { environment: env.name, ...(await strategy.drift(deps, config, env, record, own, composeVersion)) }
    }),
  )
}

export function driftCheck(drift: readonly NamedDrift[], actives: readonly ActiveRelease[]): Check {
  const details = drift.flatMap((d) => [
    ...d.drift.map((i) => `${d.environment}: ${i.service}${i.container ? ` ${i.container}` : ''}: ${i.message}`),
    ...(d.driftNote ? [`${d.environment}: ${d.driftNote}`] : []),
  ])
  const compared = actives.filter((a) => a.record).length
  if (details.length === 0) return { id: 'drift', status: 'ok', summary: `${compared} environment${plural(compared)} run${compared === 1 ? 's' : ''} as recorded`, details: [] }
  const envs = drift.filter((d) => d.drift.length > 0 || d.driftNote)
  const redeploy = envs
    .map((d) => {
      const tag = actives.find((a) => a.env.name === d.environment)?.record?.tag
      return tag ? `berth deploy ${d.environment} --tag ${tag}` : `berth deploy ${d.environment}`
    })
    .join('; ')
  return {
    id: 'drift',
    status: 'warn',
    summary: `${envs.map((d) => d.environment).join(', ')} ${envs.length === 1 ? 'differs' : 'differ'} from the active release record`,
    details,
    hint: `Put any change you mean to keep into the compose files or env file, then re-apply: ${redeploy}`,
  }
}
