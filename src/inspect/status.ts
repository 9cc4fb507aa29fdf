import { selectEnvironment } from '../config/load.js'
import type { Config, EnvironmentConfig } from '../config/types.js'
import { psAll } from '../docker/docker.js'
import { DockerCommandError } from '../errors.js'
import { mask } from '../secrets.js'
import { type Container, parsePs } from '../docker/parse.js'
import type { Deps } from '../run/context.js'
import { type ColourStatus, strategyOf } from '../strategy/strategy.js'
import { type EnvironmentDrift, environmentDrift } from './drift.js'
import { checkEngine } from '../target/engine.js'
import { findActive, findPrevious, readReleases, RELEASE_FILE, type ReleaseRecord, releasesPath } from '../state/releases.js'
import { type SharedNameFinding, sharedNameFindings } from '../preflight/sharedNetworks.js'
import { type DamagedFile, readOrDamaged } from '../state/damage.js'
import { readStateFile } from '../state/files.js'
import { LABEL } from '../names.js'
import { lastGoodPath } from '../state/paths.js'
import { findUnmanaged, type UnmanagedContainer } from './unmanaged.js'

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
  /** blue-green: the live and idle colours and where each route points. */
  colours?: ColourStatus
  /** Its services answering to the same name as another's on a shared network (SPEC §7). */
  sharedNames?: SharedNameFinding[]
  /** State files of the environment that do not read: its release (or colours) and drift are unknown. */
  damaged?: DamagedFile[]
}

export interface StatusReport {
  app: string
  environments: (EnvironmentStatus & EnvironmentDrift)[]
  /** Containers that look like the app's but belong to none of its environments (seed 000). */
  unmanaged: UnmanagedContainer[]
}

/**
 * One `docker ps` for the whole host, however many environments (issue: cheap status), filtered here: by
 * compose project for each environment — so a container recreated by hand without berth's labels still
 * shows — and by name, image and labels for hand-started ones, which no label filter can tell apart (a
 * `docker run` of a compose-built image even inherits its project label).
 */
export async function status(config: Config, envName: string | undefined, deps: Deps): Promise<StatusReport> {
  const envs: EnvironmentConfig[] = envName ? [selectEnvironment(config, envName)] : [...config.environments.values()]
  // The listing runs beside the engine check; it is only read once the engine is known to answer.
  const [engine, listing] = await Promise.all([checkEngine(deps), deps.run(psAll(deps.target.engine), { allowFailure: true })])
  if (listing.exitCode !== 0) throw new DockerCommandError(psAll(deps.target.engine), listing.exitCode, mask(listing.stderr))
  const { stdout } = listing
  const containers = parsePs(stdout, deps.target.labels)
  const environments = await Promise.all(envs.map(async (env) => environmentReport(deps, config, env, containers, engine.compose)))
  return { app: config.app, environments, unmanaged: findUnmanaged(config.app, [...config.environments.keys()], containers) }
}

/** One environment of the host listing: its containers, what its strategy shows, its drift (unless its state is damaged). */
async function environmentReport(deps: Deps, config: Config, env: EnvironmentConfig, containers: readonly Container[], composeVersion: string): Promise<EnvironmentStatus & EnvironmentDrift> {
  const strategy = strategyOf(env)
  const [releases, extras] = await Promise.all([readOrDamaged(readReleases(deps.target.state, env.name)), readOrDamaged(strategy.describe(deps, config, env))])
  const projects = strategy.projects(env)
  const own = containers.filter((c) => projects.includes(c.project ?? ''))
  const shared = sharedNameFindings([env], containers)
  const shown = {
    ...environmentStatus(env, releases.ok ? releases.value : [], own),
    ...(extras.ok ? extras.value : {}),
    ...(shared.length ? { sharedNames: shared } : {}),
  }
  if (!releases.ok || !extras.ok) {
    // What the containers show is still listed; what they should be is unknown.
    const damaged = [releases, extras].flatMap((r) => (r.ok ? [] : [r.damaged]))
    return { ...shown, damaged, drift: [], driftNote: `drift not checked: ${damaged.length === 1 ? 'a state file is' : 'state files are'} damaged` }
  }
  // Drift is judged on what serves: a blue-green environment's idle colour is stopped on purpose.
  const serving = await strategy.serving(deps, config, env)
  return { ...shown, ...environmentDrift(findActive(releases.value), own.filter((c) => serving.includes(c.project ?? '')), composeVersion) }
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

export interface ReleaseHistory {
  environment: string
  /** Newest first; empty when the records are damaged. */
  releases: ReleaseRecord[]
  damaged?: DamagedFile
  /** With damaged records: the history the last good copy holds, which the fix restores. */
  lastGood?: { file: string; releases: ReleaseRecord[] }
}

/** SPEC §4 releases; a damaged file is shown, with the history its last good copy would restore. */
export async function releaseHistory(config: Config, envName: string, deps: Pick<Deps, 'target'>): Promise<ReleaseHistory> {
  const env = selectEnvironment(config, envName)
  const read = await readOrDamaged(readReleases(deps.target.state, env.name))
  if (read.ok) return { environment: env.name, releases: read.value }
  const copy = lastGoodPath(releasesPath(deps.target.state.dir, env.name))
  const lastGood = await readOrDamaged(readStateFile(deps.target.state.files, copy, RELEASE_FILE))
  return {
    environment: env.name,
    releases: [],
    damaged: read.damaged,
    ...(lastGood.ok && lastGood.value ? { lastGood: { file: copy, releases: lastGood.value.releases } } : {}),
  }
}
