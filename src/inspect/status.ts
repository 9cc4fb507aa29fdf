import { selectEnvironment } from '../config/load.js'
import type { Config, EnvironmentConfig } from '../config/types.js'
import { psAll } from '../docker/docker.js'
import { DockerCommandError, EngineUnavailableError } from '../errors.js'
import { mask } from '../secrets.js'
import { type Container, parsePs } from '../docker/parse.js'
import { type Deps, onTarget } from '../run/context.js'
import type { Target } from '../target/target.js'
import { type ColourStatus, strategyOf } from '../strategy/strategy.js'
import type { StackServiceStatus } from '../strategy/swarm/inspect.js'
import type { EnvironmentDrift } from './drift.js'
import { checkComposeOfAnswering, checkEngine } from '../target/engine.js'
import { findActive, findPrevious, readReleases, RELEASE_FILE, type ReleaseRecord, releasesPath } from '../state/releases.js'
import { type SharedNameFinding, sharedNameFindings } from '../preflight/sharedNetworks.js'
import { type DamagedFile, readOrDamaged } from '../state/damage.js'
import { readStateFile } from '../state/files.js'
import { LABEL } from '../names.js'
import { lastGoodPath } from '../state/paths.js'
import { expiresAt, type PreviewRecord, readPreview } from '../state/preview.js'
import { findUnmanaged, type UnmanagedContainer } from './unmanaged.js'
import { byCodePoint } from '../order.js'

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
  /** swarm: the stack's services, replicas, task states and published ports (SPEC §10). */
  stack?: StackServiceStatus[]
  /** Its services answering to the same name as another's on a shared network (SPEC §7). */
  sharedNames?: SharedNameFinding[]
  /** State files of the environment that do not read: its release (or colours) and drift are unknown. */
  damaged?: DamagedFile[]
  /** Where it runs: "the local engine", "ssh://deploy@10.0.0.5" (SPEC §10). */
  engine?: string
  /** Its engine could not be reached: why. Nothing else of it is known. */
  unreachable?: string
  /** SPEC §11: how old it is (since its first deploy) and, for a preview with a ttl, when it expires. */
  age?: EnvironmentAge
}

/**
 * SPEC §11 age and expiry. A preview's come from its record (made at its first deploy, renewed by each deploy);
 * a literal environment's from its release records (the oldest kept and the newest), and it never expires.
 */
export interface EnvironmentAge {
  /** First deploy (ISO): a preview's creation, else the oldest kept release's deploy. */
  createdAt: string
  ageMs: number
  /** Last deploy (ISO): what a preview's ttl counts from. */
  lastDeployAt: string
  /** A preview only: the pattern it was made from. */
  pattern?: string
  /** A preview with a ttl only: when it expires (ISO), and whether it has (berth prune --expired takes it down). */
  expiresAt?: string
  expired?: boolean
}

export interface StatusReport {
  app: string
  environments: (EnvironmentStatus & EnvironmentDrift)[]
  /** Containers that look like the app's but belong to none of its environments (seed 000). */
  unmanaged: (UnmanagedContainer & { engine?: string })[]
  /** Some environment's engine could not be reached (`berth status` then exits 6, after showing the others). */
  unreachable?: true
}

/**
 * One `docker ps` per engine, however many environments it runs (issue: cheap status), filtered here: by
 * compose project for each environment — so a container recreated by hand without berth's labels still
 * shows — and by name, image and labels for hand-started ones, which no label filter can tell apart (a
 * `docker run` of a compose-built image even inherits its project label). Environments on different engines
 * (SPEC §10) are read at once; an engine that cannot be reached marks its environments unreachable and the
 * others are still shown.
 */
export async function status(config: Config, envName: string | undefined, deps: Deps): Promise<StatusReport> {
  const envs: EnvironmentConfig[] = envName ? [selectEnvironment(config, envName)] : [...config.environments.values()]
  const engines = new Map<Target, EnvironmentConfig[]>()
  for (const env of envs) engines.set(deps.targetOf(env), [...(engines.get(deps.targetOf(env)) ?? []), env])
  const reports = await Promise.all([...engines].map(([target, shown]) => engineReport(deps, config, target, shown)))
  // No engine answers at all: that is the answer (exit 6), as on a single host.
  const failed = reports.map((r) => r.failure).filter((f) => f !== undefined)
  if (failed.length === reports.length && failed[0]) throw failed[0]
  const byName = new Map(reports.flatMap((r) => r.environments.map((e) => [e.environment, e] as const)))
  return {
    app: config.app,
    environments: envs.map((env) => byName.get(env.name) as EnvironmentReport),
    unmanaged: reports.flatMap((r) => r.unmanaged),
    ...(reports.some((r) => r.unreachable) ? { unreachable: true } : {}),
  }
}

type EnvironmentReport = StatusReport['environments'][number]

/** The environments of one engine, from one listing; all marked unreachable when the engine cannot be reached. */
async function engineReport(base: Deps, config: Config, target: Target, envs: readonly EnvironmentConfig[]) {
  const deps = onTarget(base, envs[0] as EnvironmentConfig)
  try {
    // The listing answers whether the engine does (issue 15: no /_ping beside it); when it fails, the engine
    // check says why, in its own words (exit 6, the environments marked unreachable).
    const listing = await deps.run(psAll(target.engine), { allowFailure: true })
    if (listing.exitCode !== 0) {
      await checkEngine(deps)
      throw new DockerCommandError(psAll(target.engine), listing.exitCode, mask(listing.stderr))
    }
    const compose = await checkComposeOfAnswering(deps)
    const containers = parsePs(listing.stdout, target.labels)
    const environments = await Promise.all(envs.map(async (env) => ({ ...(await environmentReport(deps, config, env, containers, compose)), engine: target.description })))
    // Containers of the app on this engine that belong to none of the environments deploy.yml runs here.
    const here = [...config.environments.values()].filter((env) => base.targetOf(env) === target).map((env) => env.name)
    return { environments, unmanaged: findUnmanaged(config.app, here, containers).map((u) => ({ ...u, engine: target.description })), unreachable: false }
  } catch (error) {
    if (!(error instanceof EngineUnavailableError)) throw error
    return {
      environments: envs.map((env): EnvironmentReport => ({ environment: env.name, project: env.project, engine: target.description, unreachable: error.message, services: [], drift: [] })),
      unmanaged: [],
      unreachable: true,
      failure: error,
    }
  }
}

/** One environment of the host listing: its containers, what its strategy shows, its drift (unless its state is damaged). */
async function environmentReport(deps: Deps, config: Config, env: EnvironmentConfig, containers: readonly Container[], composeVersion: string): Promise<EnvironmentStatus & EnvironmentDrift> {
  const strategy = strategyOf(env)
  const projects = strategy.projects(env)
  const own = containers.filter((c) => projects.includes(c.project ?? ''))
  const [releases, extras, preview] = await Promise.all([
    readOrDamaged(readReleases(deps.target.state, env.name)),
    readOrDamaged(strategy.describe(deps, config, env, own)),
    env.preview ? readOrDamaged(readPreview(deps.target.state, env.name)) : undefined,
  ])
  const shared = sharedNameFindings([env], containers)
  const age = environmentAge(env, releases.ok ? releases.value : [], preview?.ok ? preview.value : undefined, deps.now())
  const shown = {
    ...environmentStatus(env, releases.ok ? releases.value : [], strategy.shown(own)),
    ...(age ? { age } : {}),
    ...(extras.ok ? extras.value : {}),
    ...(shared.length ? { sharedNames: shared } : {}),
  }
  if (!releases.ok || !extras.ok || preview?.ok === false) {
    // What the containers show is still listed; what they should be is unknown.
    const damaged = [releases, extras, ...(preview ? [preview] : [])].flatMap((r) => (r.ok ? [] : [r.damaged]))
    return { ...shown, damaged, drift: [], driftNote: `drift not checked: ${damaged.length === 1 ? 'a state file is' : 'state files are'} damaged` }
  }
  return { ...shown, ...(await strategy.drift(deps, config, env, findActive(releases.value), own, composeVersion)) }
}

/** SPEC §11: an environment's age and expiry (EnvironmentAge); undefined when it was never deployed. */
export function environmentAge(env: EnvironmentConfig, releases: readonly ReleaseRecord[], preview: PreviewRecord | undefined, now: Date): EnvironmentAge | undefined {
  const deploys = releases.map((r) => r.deployedAt).sort()
  const createdAt = preview?.createdAt ?? deploys[0]
  const lastDeployAt = preview?.lastDeployAt ?? deploys.at(-1)
  if (createdAt === undefined || lastDeployAt === undefined) return undefined
  const expires = preview ? expiresAt(preview, env.preview?.ttlMs) : undefined
  return {
    createdAt,
    ageMs: Math.max(0, now.getTime() - Date.parse(createdAt)),
    lastDeployAt,
    ...(preview ? { pattern: preview.pattern } : {}),
    ...(expires ? { expiresAt: expires.toISOString(), expired: expires.getTime() <= now.getTime() } : {}),
  }
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
      .sort((a, b) => byCodePoint(a.service ?? '', b.service ?? '') || byCodePoint(a.name, b.name))
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
