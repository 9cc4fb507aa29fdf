import { hashEnvFile, readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { PreflightError, UsageError } from '../errors.js'
import { type Env, applyAndWait, reportFailure, restorePrevious } from '../health/gate.js'
import { poolNetworks, refuseNetworkCeiling } from '../preflight/addressPools.js'
import { applyBlueGreen, edgePreflight, plannedNetworks } from '../strategy/blueGreen/apply.js'
import { type ComposeModel, releaseOverride } from '../release/model.js'
import { type Deps, operator } from './context.js'
import { checkEngine } from '../target/engine.js'
import { lockedRun, type RunProgress } from './lockedRun.js'
import { refuseBlueGreenModel, refuseFixedNames, refusePortClashes } from '../preflight/preflight.js'
import { refuseSharedNames } from '../preflight/sharedNetworks.js'
import { buildRelease, gitVersion, missingImages, prepareRelease, resolveModel, tagsWithImages } from '../release/prepare.js'
import { activate, findActive, readReleases, type ReleaseRecord, withRecord, writeReleases } from '../state/releases.js'
import { nextTag, TAG_PATTERN } from '../release/tag.js'
import { allReleaseTags, pruneReleases } from '../release/retention.js'
import { refuseDamagedState } from '../state/damage.js'

export interface DeployRequest {
  config: Config
  envName: string
  /** Promote an existing release's images instead of building. */
  tag?: string
  /** Asked before anything changes when the environment has `confirm: true`. */
  confirm: (question: string) => Promise<boolean>
  /** The command line, recorded in the lock. */
  command: string
}

export interface DeployResult {
  environment: string
  project: string
  tag: string
  previous?: string
  built: string[]
  restartAdded: string[]
  removedImages: string[]
  durationMs: number
}

/** SPEC §4 deploy: preflight, lock, build (or reuse --tag), apply, wait healthy, record; roll back on failure. */
export async function deploy(req: DeployRequest, deps: Deps): Promise<DeployResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  if (req.tag !== undefined && !TAG_PATTERN.test(req.tag)) {
    throw new UsageError(`--tag ${req.tag} is not a release tag (expected YYYYMMDD-HHMMSS)`, `List releases with: berth releases ${env.name}`, 'BAD_TAG')
  }
  // The engine check and `compose config` (which needs no engine) run at once; the engine's verdict is
  // still the first one reported (exit 6 before any config error).
  const engine = checkEngine(deps)
  // Read-only and needed only once locked: started now so the deploy never waits for it.
  const git = gitVersion(deps, req.config.dir).catch(() => undefined)
  const varsRead = readEnvFile(env)
  const modelResolved = varsRead.then(() => resolveModel(deps, env))
  modelResolved.catch(() => undefined)
  const stateReadable = refuseDamagedState(req.config, env)
  stateReadable.catch(() => undefined)
  await engine
  await stateReadable
  const vars = await varsRead
  const e: Env = { config: req.config, env, target: deps.target, vars }
  const model = await deps.reporter.step(`check ${env.name} configuration`, async () => {
    const m = await modelResolved
    refuseFixedNames(m, env)
    refuseBlueGreenModel(m, env)
    const networks = env.strategy === 'blue-green' ? await plannedNetworks(e, m) : poolNetworks(m, env.project)
    // Independent queries: together, so the operator waits for the slowest, not the sum.
    await Promise.all([
      refusePortClashes(deps, m, env),
      refuseSharedNames(deps, m, env),
      refuseNetworkCeiling(deps, env.name, networks),
      req.tag ? refuseMissingImages(deps, e, m, req.tag) : undefined,
      edgePreflight(deps, req.config, env),
    ])
    return m
  })
  if (env.confirm && !(await req.confirm(`Deploy ${req.tag ?? 'a new release'} to ${env.name}?`))) {
    throw new PreflightError(`deploy to ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  return lockedRun({ config: req.config, env, action: 'deploy', command: req.command, deps }, (progress) => deployLocked(req, deps, e, model, started, git, progress))
}

async function refuseMissingImages(deps: Deps, e: Env, model: ComposeModel, tag: string): Promise<void> {
  const { builtImages } = releaseOverride(model, { app: e.config.app, env: e.env.name, tag })
  const missing = await missingImages(deps, builtImages)
  if (missing.length === 0) return
  const available = await tagsWithImages(deps, e.config.app)
  throw new PreflightError(
    `release ${tag} cannot be deployed to ${e.env.name}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on this host`,
    available.length ? `Releases with images here: ${available.join(', ')}` : `No release of ${e.config.app} has images here; deploy without --tag to build one.`,
    'RELEASE_IMAGES_MISSING',
  )
}

async function deployLocked(req: DeployRequest, deps: Deps, e: Env, model: ComposeModel, started: Date, gitDescribed: Promise<string | undefined>, progress: RunProgress): Promise<DeployResult> {
  const { config, env } = e
  const releases = await readReleases(config.stateDir, env.name)
  const previous = findActive(releases)
  if (previous) progress.from = previous.tag
  const [git, taken] = await Promise.all([
    gitDescribed,
    req.tag ? [] : Promise.all([allReleaseTags(deps, config.stateDir), tagsWithImages(deps, config.app)]).then(([a, b]) => [...a, ...b]),
  ])
  const tag = req.tag ?? nextTag(started, new Set(taken))
  const prepared = await prepareRelease(deps, config, env, model, tag, git)
  if (prepared.restartAdded.length > 0) {
    deps.reporter.warn(`${prepared.restartAdded.join(', ')} had no restart policy: berth runs ${prepared.restartAdded.length === 1 ? 'it' : 'them'} with restart: unless-stopped so ${prepared.restartAdded.length === 1 ? 'it comes' : 'they come'} back after a reboot`)
  }
  const record: ReleaseRecord = {
    tag,
    deployedAt: started.toISOString(),
    by: operator(),
    ...(git ? { git } : {}),
    status: 'failed',
    images: prepared.images,
    builtImages: prepared.builtImages,
    envHash: await hashEnvFile(env.envFile),
    configFile: prepared.configFile,
  }
  // Re-deploying the active release (--tag of the active tag): a failure must not replace the record of what
  // runs again after the automatic rollback (or still runs, for blue-green); the audit log keeps the attempt.
  const redeploy = previous?.tag === tag
  const recordFailed = async () => {
    if (!redeploy) await writeReleases(config.stateDir, env.name, withRecord(releases, { ...record, durationMs: deps.now().getTime() - started.getTime() }))
  }
  progress.tag = tag
  progress.onInterrupt = async () => {
    await recordFailed()
    if (redeploy) return `the re-deploy of ${tag} was interrupted and may be partly applied; its record is unchanged: berth deploy ${env.name} --tag ${tag}`
    return `release ${tag} is recorded as failed and may be partly applied${previous ? `; the last good release is ${previous.tag}: berth rollback ${env.name} --to ${previous.tag}` : ''}`
  }
  const built = req.tag ? [] : prepared.builtImages
  if (built.length > 0) {
    try {
      await deps.reporter.step(`build ${tag}`, (update) => buildRelease(deps, env, model, prepared, update))
    } catch (error) {
      // Nothing was applied: the running release is untouched. Record the attempt, then report it.
      await recordFailed()
      throw error
    }
  }

  if (env.strategy === 'blue-green') {
    let outcome
    try {
      outcome = await applyBlueGreen(deps, e, record)
    } catch (error) {
      await recordFailed()
      throw error
    }
    return recordSuccess(
      { ...record, colour: outcome.colour, images: { ...record.images, ...outcome.stateful.images }, serviceReleases: outcome.stateful.releases },
      outcome.configHashes,
    )
  }
  const result = await applyAndWait(deps, e, record)
  if (!result.ok) {
    await reportFailure(deps, e, record, result.failure)
    await recordFailed()
    return restorePrevious(deps, e, tag, result.failure, previous)
  }

  return recordSuccess(record, result.configHashes)

  async function recordSuccess(applied: ReleaseRecord, configHashes: Record<string, string>): Promise<DeployResult> {
    const now = deps.now()
    const durationMs = now.getTime() - started.getTime()
    const updated = activate(withRecord(releases, { ...applied, durationMs, configHashes }), tag, now.toISOString())
    await writeReleases(config.stateDir, env.name, updated)
    progress.onInterrupt = async () => `release ${tag} is active; retention was cut short, which the next deploy finishes`
    const removedImages = await pruneReleases(deps, config, env)
    return { environment: env.name, project: env.project, tag, ...(previous ? { previous: previous.tag } : {}), built, restartAdded: prepared.restartAdded, removedImages, durationMs }
  }
}
