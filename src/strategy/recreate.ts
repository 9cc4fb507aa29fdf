import { type ComposeProject, composeDown, composeUp } from '../docker/compose.js'
import { NeedsPersonError, RolledBackError } from '../errors.js'
import { type Env, healthPlan, recordedModel, reportFailure, waitFor, type WaitResult } from '../health/gate.js'
import type { HealthFailure } from '../health/wait.js'
import { poolNetworks } from '../preflight/addressPools.js'
import { withNetworkPool } from '../preflight/networkPool.js'
import { type Deps, releaseProject, sourceProject } from '../run/context.js'
import type { ReleaseRecord } from '../state/releases.js'
import { composeDrift } from './composeDrift.js'
import type { Strategy } from './strategy.js'

/**
 * `strategy: recreate` (the default): compose's own update of the environment's one project, <app>-<env>.
 * A release that is not healthy is replaced by the one that was active before it.
 */
export const recreate: Strategy = {
  name: 'recreate',
  colours: [],
  projects: (env) => [env.project],
  beforeChange: async () => {},
  preflight: async (_deps, e, model) => ({ networks: poolNetworks(model, e.env.project), published: model }),

  async apply(deps, e, release, options) {
    const result = await applyAndWait(deps, e, release)
    if (result.ok) return { configHashes: result.configHashes, record: {} }
    await reportFailure(deps, e, release, result.failure)
    await options.failed()
    return restorePrevious(deps, e, release.tag, result.failure, options.previous)
  },

  serving: async (_deps, _config, env) => [env.project],

  composeProject: async (deps, e) => sourceProject(deps, e.env),

  logProjects: async (_deps, _e, running) => [running],

  async down(deps, _e, running: ComposeProject, volumes) {
    await deps.run(composeDown(running, { volumes }))
  },

  drift: (deps, config, env, active, containers, version) => composeDrift(recreate, deps, config, env, active, containers, version),
  shown: (containers) => [...containers],
  describe: async () => ({}),
  hostChecks: async () => [],
}

/** `up` with a release's recorded config, then the SPEC §6 wait. */
async function applyAndWait(deps: Deps, e: Env, record: Pick<ReleaseRecord, 'tag' | 'configFile'>): Promise<WaitResult> {
  const model = await recordedModel(e, record)
  const target = await releaseProject(deps, e.env, record.configFile)
  await deps.reporter.step(`apply ${record.tag} to ${e.env.project}`, async () => {
    await deps.run(composeUp(await withNetworkPool(deps, e.config.networkPool, e.env.name, target)))
  })
  return waitFor(deps, record.tag, e.env.project, healthPlan(e, model))
}

/**
 * After a failed release: re-apply the release that was active before it. Always throws: exit 3 when the
 * environment is healthy again on `previous`, exit 4 when it is not (or there was nothing to return to).
 */
async function restorePrevious(deps: Deps, e: Env, failedTag: string, failure: HealthFailure, previous: ReleaseRecord | undefined): Promise<never> {
  const what = `${failure.check} failed: ${failure.lastError}`
  if (!previous) {
    throw new NeedsPersonError(
      `${e.env.name} ${failedTag} is not healthy (${what}) and there is no earlier release to roll back to`,
      `The failed release is left running for inspection: berth logs ${e.env.name}. Fix it and deploy again, or remove it with: berth down ${e.env.name}`,
    )
  }
  deps.reporter.info(`rolling ${e.env.name} back to ${previous.tag}`)
  const back = await applyAndWait(deps, e, previous)
  if (!back.ok) {
    await reportFailure(deps, e, previous, back.failure)
    throw new NeedsPersonError(
      `${e.env.name} ${failedTag} is not healthy (${what}), and rolling back to ${previous.tag} failed too (${back.failure.check}: ${back.failure.lastError})`,
      `The environment needs a person: berth status ${e.env.name}; berth logs ${e.env.name}`,
    )
  }
  throw new RolledBackError(
    `${e.env.name} ${failedTag} is not healthy (${what}); rolled back to ${previous.tag}, which is healthy`,
    `See the logs above; fix and deploy again. The failed release stays recorded: berth releases ${e.env.name}`,
  )
}
