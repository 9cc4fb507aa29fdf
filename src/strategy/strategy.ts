import type { Config, EnvironmentConfig } from '../config/types.js'
import type { ComposeProject } from '../docker/compose.js'
import type { Check } from '../doctor/check.js'
import type { Container } from '../docker/parse.js'
import type { EnvironmentDrift } from '../inspect/drift.js'
import type { StackServiceStatus } from './swarm/inspect.js'
import type { Env } from '../health/gate.js'
import type { Colour } from '../names.js'
import type { ComposeModel } from '../release/model.js'
import type { Deps } from '../run/context.js'
import type { ReleaseRecord } from '../state/releases.js'
import { blueGreen } from './blueGreen/index.js'
import { recreate } from './recreate.js'
import { swarm } from './swarm/index.js'

/**
 * How an environment runs (STYLE.md, "two seams"): `recreate`, compose's own update of one project, or
 * `blue-green`, two colour projects behind the edge (SPEC §9). Everything that differs between them is asked
 * of this interface, so the run frame — deploy, rollback, down, logs, compose, status, doctor — is the same for
 * both, and a new way to run is a new implementation.
 */
export interface Strategy {
  readonly name: EnvironmentConfig['strategy'] | 'swarm'
  /** The colours it runs the environment in (none: one project). */
  readonly colours: readonly Colour[]
  /** Every compose project the environment owns. */
  projects(env: EnvironmentConfig): string[]
  /**
   * Before a deploy, rollback or down changes anything: its own state files must read, and what it will need
   * (blue-green: the edge) must be reachable and readable. Refuses with exit 2 otherwise.
   */
  beforeChange(deps: Deps, config: Config, env: EnvironmentConfig): Promise<void>
  /**
   * Its own refusals before anything changes (SPEC §5: the model's shape, the edge), and what the common
   * preflight checks of the host for it.
   */
  preflight(deps: Deps, e: Env, model: ComposeModel): Promise<Plan>
  /**
   * deploy --tag: of the release's built images (`refs`), those this strategy runs without the engine having
   * them (Swarm: pinned by digest in a record of the tag, pulled from the registry by each node).
   */
  runsWithoutLocalImages?(deps: Deps, e: Env, tag: string, refs: readonly string[]): Promise<string[]>
  /**
   * rollback: whether, by its records alone, a rollback to `release` is a switch to what it still runs
   * (blue-green, `idle: running`), so the checks of a re-apply can wait for ApplyOptions.beforeReapply.
   */
  switchesTo?(deps: Deps, e: Env, release: ReleaseRecord): Promise<boolean>
  /**
   * Retention's part beyond the engine's images (Swarm: the registry's tags): `dropped` are the environment's
   * releases retention dropped, `kept` every record still kept on the target, of every environment.
   */
  pruneBeyondEngine?(deps: Deps, e: Env, dropped: readonly ReleaseRecord[], kept: readonly ReleaseRecord[]): Promise<void>
  /**
   * Applies a release and waits until it is healthy (SPEC §6). A release that is not healthy ends the same way
   * for every strategy: what served before serves again and RolledBackError is thrown (exit 3), or that could
   * not be done and NeedsPersonError is thrown (exit 4).
   */
  apply(deps: Deps, e: Env, release: ReleaseRecord, options: ApplyOptions): Promise<Applied>
  /**
   * SPEC §9 watch, after an apply with `watching`: watches the release for `windowMs` and then lets what served
   * before go idle. A failure inside the window switches back to it by itself and ends `reverted`; `signal`
   * aborting ends the watch, not the release (`interrupted`).
   */
  watch?(deps: Deps, e: Env, release: ReleaseRecord, windowMs: number, signal: AbortSignal): Promise<WatchOutcome>
  /** The projects whose containers serve now: drift is judged on these. A damaged state file counts as none. */
  serving(deps: Deps, config: Config, env: EnvironmentConfig): Promise<string[]>
  /** What `berth compose` addresses; a colour only where the strategy has colours (the caller checks). */
  composeProject(deps: Deps, e: Env, colour: ColourChoice | undefined): Promise<ComposeProject>
  /** What `berth logs` reads, given the project and config the environment runs with (`running`). */
  logProjects(deps: Deps, e: Env, running: ComposeProject, service: string | undefined): Promise<ComposeProject[]>
  /**
   * A strategy whose logs are not compose's (Swarm's service logs) reads them itself: each line to `onLine`,
   * returning how many containers (tasks) it read. Without it, `berth logs` reads compose's logs of logProjects.
   */
  logs?(deps: Deps, e: Env, request: { service?: string; tail?: number; follow: boolean }, onLine: (line: string, stream: 'stdout' | 'stderr') => void): Promise<number>
  /** Stops and removes everything the environment runs (`running`: its project with the config it runs). */
  down(deps: Deps, e: Env, running: ComposeProject, volumes: boolean): Promise<void>
  /**
   * SPEC §7 drift: what runs against the active release, from the engine's listing of containers (`containers`:
   * those of its projects) and, where the strategy has more to read, the engine itself. Used by status and doctor.
   */
  drift(deps: Deps, config: Config, env: EnvironmentConfig, active: ReleaseRecord | undefined, containers: readonly Container[], composeVersion: string): Promise<EnvironmentDrift>
  /** Of its containers, those `berth status` lists (Swarm keeps its tasks' exited containers as history). */
  shown(containers: readonly Container[]): Container[]
  /** What `berth status` shows of it besides its containers (`containers`: those of its projects). May throw StateDamagedError. */
  describe(deps: Deps, config: Config, env: EnvironmentConfig, containers: readonly Container[]): Promise<StrategyStatus>
  /** What `berth doctor` checks on the host for the environments of this strategy. */
  hostChecks(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check[]>
  /** SPEC §9 `berth maintenance`: only a strategy whose routes berth answers (blue-green, through the edge) has it. */
  readonly maintenance?: MaintenanceSwitch
}

/** `berth maintenance ENV on|off`: the environment's routes answer a 503 page until it is turned off. */
export interface MaintenanceSwitch {
  /** Before the lock, changing nothing: refuses (exit 2) what cannot be done, such as `on` for an environment with no routes. */
  check(deps: Deps, config: Config, env: EnvironmentConfig, change: MaintenanceChange): Promise<void>
  /** Under the environment's lock: puts the page in place (or changes its message), or takes it away. */
  set(deps: Deps, config: Config, env: EnvironmentConfig, change: MaintenanceChange): Promise<MaintenanceApplied>
}

/** `at`: when the run turning it on started, its `since` unless it is on already. */
export type MaintenanceChange = { on: true; at: string; message?: string } | { on: false }

export interface MaintenanceApplied {
  /** Whether anything changed: `off` when it was off, or `on` again with the same page, changes nothing. */
  changed: boolean
  /** While on: since when, and the page's message. */
  since?: string
  message?: string
  /** Ids of the environment's routes on the edge (`on`), and of those rewritten first because an earlier berth wrote them. */
  routes: string[]
  rewritten: string[]
}

/** What the common preflight checks of the host for a strategy. */
export interface Plan {
  /** Networks the apply takes from the engine's address pools. */
  networks: string[]
  /** What the environment will publish on the host (blue-green: its routes' listen ports, which the edge owns). */
  published: ComposeModel
}

export interface ApplyOptions {
  /** What served before: restored when the release is not healthy. */
  previous: ReleaseRecord | undefined
  /** Called once the release is known not to be healthy, before anything is restored. */
  failed(): Promise<void>
  /**
   * A rollback that expected a switch (`switchesTo`) skipped the checks a re-apply needs (its images, the
   * host's room): the strategy calls this, and a refusal it throws still changes nothing, when it finds it
   * must re-apply after all.
   */
  beforeReapply?(): Promise<void>
  /** A deploy's watch follows (SPEC §9): what served before must stay able to serve again at once until it ends (see Strategy.watch). */
  watching?: boolean
}

/** How a watch window ended: over, ended early by the operator (the release stays), or switched back by itself. */
export type WatchOutcome = { ended: 'over' } | { ended: 'interrupted'; signal: string } | { ended: 'reverted'; reason: string }

export interface Applied {
  /** The drift baseline: each service's compose config hash once healthy. */
  configHashes: Record<string, string>
  /** What the record learns from the apply (blue-green: the colour, what the stateful services run). */
  record: Partial<Pick<ReleaseRecord, 'colour' | 'images' | 'serviceReleases' | 'configFile'>>
}

export type ColourChoice = Colour | 'live' | 'idle'

/** What status shows of a blue-green environment, from berth's own records (no call to the edge). */
export interface ColourStatus {
  live?: Colour
  /** `berth maintenance ENV on`: since when, and the page's message (none: the default text). From the page's file on the edge's host. */
  maintenance?: { since: string; message?: string }
  /** The colour a rollback switches to, and what it does meanwhile (the environment's `idle`). */
  idle?: {
    colour: Colour
    release: string
    mode: EnvironmentConfig['idle']
    /** What its running containers use now (bytes, as docker stats counts it): what idle: running costs. */
    memoryBytes?: number
  }
  routes: { listen: number; host?: string; service: string; port: number; upstream?: string }[]
}

export interface StrategyStatus {
  colours?: ColourStatus
  /** swarm: the stack's services, replicas and task states. */
  stack?: StackServiceStatus[]
}

/** A release's record once applied: what the strategy learnt of it, and the drift baseline. */
export function recordApplied(record: ReleaseRecord, applied: Applied): ReleaseRecord {
  return { ...record, ...applied.record, images: { ...record.images, ...applied.record.images }, configHashes: applied.configHashes }
}

export function strategyOf(env: Pick<EnvironmentConfig, 'strategy' | 'target'>): Strategy {
  if (env.target === 'swarm') return swarm
  return env.strategy === 'blue-green' ? blueGreen : recreate
}
