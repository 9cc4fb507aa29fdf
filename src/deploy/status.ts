import { selectEnvironment } from '../config/load.js'
import type { Config, EnvironmentConfig } from '../config/types.js'
import { psByLabels } from '../docker/docker.js'
import { type Container, parsePs } from '../docker/parse.js'
import { LABEL } from './composeModel.js'
import type { Deps } from './context.js'
import { checkEngine } from './engine.js'
import { findActive, findPrevious, readReleases, type ReleaseRecord } from './releaseStore.js'

export interface ServiceStatus {
  service: string
  container: string
  state: string
  health: string
  status: string
  ports: string
  release?: string
  image: string
}

export interface EnvironmentStatus {
  environment: string
  project: string
  release?: string
  since?: string
  previous?: string
  services: ServiceStatus[]
}

export interface StatusReport {
  app: string
  environments: EnvironmentStatus[]
}

/** One label-filtered `docker ps` for the whole app, however many environments (SPEC §7, issue: cheap status). */
export async function status(config: Config, envName: string | undefined, deps: Deps): Promise<StatusReport> {
  const envs: EnvironmentConfig[] = envName ? [selectEnvironment(config, envName)] : [...config.environments.values()]
  await checkEngine(deps.run)
  const { stdout } = await deps.run(psByLabels([`${LABEL.app}=${config.app}`]))
  const containers = parsePs(stdout)
  const environments = await Promise.all(
    envs.map(async (env) => environmentStatus(env, await readReleases(config.stateDir, env.name), containers.filter((c) => c.project === env.project))),
  )
  return { app: config.app, environments }
}

export function environmentStatus(env: EnvironmentConfig, releases: readonly ReleaseRecord[], containers: readonly Container[]): EnvironmentStatus {
  const active = findActive(releases)
  const previous = findPrevious(releases)
  return {
    environment: env.name,
    project: env.project,
    ...(active ? { release: active.tag, since: active.activeSince ?? active.deployedAt } : {}),
    ...(previous ? { previous: previous.tag } : {}),
    services: [...containers]
      .sort((a, b) => (a.service ?? '').localeCompare(b.service ?? '') || a.name.localeCompare(b.name))
      .map((c) => ({
        service: c.service ?? '',
        container: c.name,
        state: c.state,
        health: c.health,
        status: c.status,
        ports: c.ports,
        image: c.image,
        ...(c.labels[LABEL.release] ? { release: c.labels[LABEL.release] } : {}),
      })),
  }
}
