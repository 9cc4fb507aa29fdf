import { parse } from 'yaml'

import { interpolate } from '../config/envFile.js'
import type { Config, EnvironmentConfig, HttpProbe } from '../config/types.js'
import { type ComposeProject, composeLogs } from '../docker/compose.js'
import type { Container } from '../docker/parse.js'
import { type ComposeModel, oneOffServices } from '../release/model.js'
import { COMPOSE_LABEL } from '../names.js'
import { type Deps, projectContainers, releaseProject, watchProject } from '../run/context.js'
import { type HealthFailure, type HealthPlan, waitHealthy } from './wait.js'
import { type ReleaseRecord } from '../state/releases.js'
import type { Target } from '../target/target.js'
import { configPath } from '../state/paths.js'

export interface Env {
  config: Config
  env: EnvironmentConfig
  /** Where the environment runs. */
  target: Target
  /** The env file's values (only for interpolating probe URLs; never printed). */
  vars: Record<string, string>
}

/** The environment's HTTP probes with ${VAR} taken from its env file. */
export function envProbes(e: Env): HttpProbe[] {
  return e.env.health.http.map((p) => ({ ...p, url: interpolate(p.url, e.vars) }))
}

export function healthPlan(e: Env, model: ComposeModel, probes: HttpProbe[] = envProbes(e)): HealthPlan {
  return {
    services: Object.keys(model.services).sort(),
    oneOff: oneOffServices(model),
    probes,
    timeoutMs: e.env.health.timeoutMs,
    intervalMs: e.env.health.intervalMs,
    pollMs: Math.min(e.env.health.intervalMs, STATE_POLL_MS),
  }
}

/** How often the health gate reads container states at most (see HealthPlan.pollMs). */
const STATE_POLL_MS = 250

/** A release's recorded, resolved config, as text (it is in the target's state). */
export async function recordedConfig(e: Pick<Env, 'env' | 'target'>, record: Pick<ReleaseRecord, 'configFile'>): Promise<string> {
  const path = configPath(e.target.state.dir, e.env.name, record.configFile)
  const text = await e.target.state.files.read(path)
  if (text === undefined) throw new Error(`${path} is gone: the resolved config of release ${record.configFile} was removed`)
  return text
}

export async function recordedModel(e: Pick<Env, 'env' | 'target'>, record: Pick<ReleaseRecord, 'configFile'>): Promise<ComposeModel> {
  return parse(await recordedConfig(e, record)) as ComposeModel
}

/** What a health wait ends with: on success, the drift baseline. */
export type WaitResult = { ok: true; configHashes: Record<string, string> } | { ok: false; failure: HealthFailure }

/** The SPEC §6 wait on one compose project of the environment; on success, the drift baseline. */
export async function waitFor(deps: Deps, tag: string, project: string, plan: HealthPlan): Promise<WaitResult> {
  try {
    return await deps.reporter.step(`wait until ${project} ${tag} is healthy`, async (update) => {
      const result = await waitHealthy(
        plan,
        {
          containers: () => projectContainers(deps, project),
          changes: (onChange) => watchProject(deps, project, onChange),
          probe: deps.probe,
          sleep: deps.sleep,
          now: () => deps.now().getTime(),
        },
        update,
      )
      if (!result.ok) throw new HealthCheckFailed(result.failure)
      return { ok: true as const, configHashes: configHashesOf(result.containers) }
    })
  } catch (error) {
    if (error instanceof HealthCheckFailed) return { ok: false, failure: error.failure }
    throw error
  }
}

/** The drift baseline: what compose labelled each service's containers with when they were healthy. */
function configHashesOf(containers: readonly Container[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const c of containers) {
    const hash = c.labels[COMPOSE_LABEL.configHash]
    if (c.service && hash) out[c.service] = hash
  }
  return out
}

class HealthCheckFailed extends Error {
  constructor(readonly failure: HealthFailure) {
    super(`${failure.check}: ${failure.lastError}`)
  }
}

/** SPEC §6: which check failed, its last error, and the last 50 log lines of each failing service. */
export async function reportFailure(
  deps: Deps,
  e: Env,
  record: Pick<ReleaseRecord, 'tag' | 'configFile'>,
  failure: HealthFailure,
  project?: ComposeProject,
): Promise<void> {
  const target = project ?? (await releaseProject(deps, e.env, record.configFile))
  deps.reporter.warn(`${e.env.name} ${record.tag} is not healthy: ${failure.check} failed: ${failure.lastError}`)
  for (const service of failure.services) {
    const logs = await deps.run(composeLogs(target, { services: [service], tail: 50 }), { allowFailure: true })
    const lines = `${logs.stdout}\n${logs.stderr}`.split('\n').filter((l) => l.trim() !== '').slice(-50)
    deps.reporter.block(`last ${lines.length} log lines of ${service}:`, lines.length ? lines : ['(no output)'])
  }
}
