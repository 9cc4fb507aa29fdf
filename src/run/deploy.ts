import { hashEnvFile, readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config, EnvironmentConfig } from '../config/types.js'
import { envFileWarning, readEnvFileMode } from '../doctor/checks/envFiles.js'
import { PreflightError, RolledBackError, UsageError } from '../errors.js'
import { mask } from '../secrets.js'
import type { Env } from '../health/gate.js'
import { refuseMissingImages, refuseModel } from '../preflight/preflight.js'
import { type ComposeModel } from '../release/model.js'
import { copyReleaseImages, type ImageSource } from '../release/promote.js'
import { buildRelease, gitVersion, prepareRelease, type PreparedRelease, resolveModel, tagsWithImages } from '../release/prepare.js'
import { allReleaseTags, pruneReleases } from '../release/retention.js'
import { nextTag, TAG_PATTERN } from '../release/tag.js'
import { activate, findActive, readReleases, type ReleaseRecord, withRecord, writeReleases } from '../state/releases.js'
import { type Applied, recordApplied, strategyOf, type Strategy } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import { runHooks, type RunHooks } from '../hooks/hooks.js'
import type { HookRecord } from '../state/audit.js'
import { notify } from '../notify/notify.js'
import { type Deps, operator } from './context.js'
import { lockedRun, type RunProgress } from './lockedRun.js'
import { refuseDamagedState } from './stateCheck.js'
import { type OpenedPreview, openPreview } from './preview.js'

export interface DeployRequest {
  config: Config
  envName: string
  /** Promote an existing release's images instead of building. */
  tag?: string
  /** Asked before anything changes when the environment has `confirm: true`. */
  confirm: (question: string) => Promise<boolean>
  /** The command line, recorded in the lock. */
  command: string
  /** --watch: the watch window for this run instead of the environment's `watch:` (blue-green only). */
  watchMs?: number
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
  /** SPEC §11: the hooks that ran, each with how it ended (a failed post_deploy leaves the deploy ok). */
  hooks?: HookRecord[]
}

/** SPEC §4 deploy: preflight, lock, build (or reuse --tag), apply, wait healthy, record; roll back on failure. */
export async function deploy(req: DeployRequest, deps: Deps): Promise<DeployResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName, { fromPattern: true })
  if (req.tag !== undefined && !TAG_PATTERN.test(req.tag)) {
    throw new UsageError(`--tag ${req.tag} is not a release tag (expected YYYYMMDD-HHMMSS)`, `List releases with: berth releases ${env.name}`, 'BAD_TAG')
  }
  const strategy = strategyOf(env)
  const watchMs = req.watchMs ?? env.watchMs
  if (req.watchMs !== undefined && req.watchMs > 0 && !strategy.watch) {
    throw new UsageError(`--watch is for blue-green environments; ${env.name} is ${strategy.name}`, `Deploy without --watch: berth deploy ${env.name}`, 'USAGE')
  }
  // Read-only and needed only once locked: started now so the deploy never waits for it.
  const git = gitVersion(deps, req.config.dir).catch(() => undefined)
  // SPEC §11: a preview deployed for the first time is made now (env file, ports, record), and unmade if refused.
  const preview = env.preview ? await openPreview(deps, req.config, env) : undefined
  const { e, model, source } = await refusedUndoes(preview, async () => {
    const checked = await preflight(req, deps, env, strategy)
    if (env.confirm && !(await req.confirm(`Deploy ${req.tag ?? 'a new release'} to ${env.name}?`))) {
      throw new PreflightError(`deploy to ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
    }
    return checked
  })
  return lockedRun({ config: req.config, env, action: 'deploy', command: req.command, deps, ended: (outcome) => notify(deps, e, outcome) }, async (progress) => {
    // A preview's ttl counts from the end of its last deploy, whatever the outcome (SPEC §11).
    return renewsPreview(preview, deps, async () => {
      const hooks = runHooks(deps, e, 'deploy', progress)
      const run = await startRun(req, deps, e, model, started, await git, progress, hooks)
      const facts = { release: run.record.tag, previous: run.previous?.tag }
      let result: DeployResult
      try {
        await copyImages(deps, source, run)
        await build(deps, e, model, run)
        const watching = watchMs > 0 && strategy.watch !== undefined && run.previous !== undefined
        if (watchMs > 0 && strategy.watch && !run.previous) deps.reporter.info(`${env.name}: nothing served before ${run.record.tag}, so there is nothing to switch back to: no watch window`)
        const applied = await applyOrRecordFailed(strategy, deps, e, run, watching)
        result = await recordSuccess(deps, e, run, applied, progress, watching ? watchMs : 0)
      } catch (error) {
        await hooks.failed(error, facts)
        throw error
      }
      await hooks.after(facts)
      return hooks.records.length > 0 ? { ...result, hooks: [...hooks.records] } : result
    })
  })
}

async function renewsPreview<T>(preview: OpenedPreview | undefined, deps: Deps, body: () => Promise<T>): Promise<T> {
  if (!preview) return body()
  try {
    return await body()
  } finally {
    await preview.deployed(deps.now()).catch((error: unknown) => deps.reporter.warn(`the last deploy of this preview could not be recorded: ${error instanceof Error ? error.message : String(error)}`))
  }
}

/** A refused deploy of a preview it made leaves nothing of the preview behind (SPEC §5: nothing changed). */
async function refusedUndoes<T>(preview: OpenedPreview | undefined, checks: () => Promise<T>): Promise<T> {
  try {
    return await checks()
  } catch (error) {
    if (preview?.created) await preview.undo()
    throw error
  }
}

/**
 * SPEC §5: everything checked before anything changes. The engine check and `compose config` (which needs
 * no engine) run at once; the engine's verdict is still the first one reported (exit 6 before any config error).
 */
async function preflight(req: DeployRequest, deps: Deps, env: EnvironmentConfig, strategy: Strategy): Promise<{ e: Env; model: ComposeModel; source?: ImageSource }> {
  const engine = checkEngine(deps)
  const varsRead = readEnvFile(env)
  // The doctor's env-files finding, said at once: a deploy does not refuse over it (SPEC §5 lists what refuses).
  const modeRead = readEnvFileMode(env).then((file) => {
    const warning = envFileWarning(file)
    if (warning !== undefined) deps.reporter.warn(warning)
  })
  engine.catch(() => undefined)
  const modelResolved = varsRead.then(() => resolveModel(deps, env))
  modelResolved.catch(() => undefined)
  const stateReadable = refuseDamagedState(deps, req.config, env, strategy)
  stateReadable.catch(() => undefined)
  await modeRead
  await engine
  await stateReadable
  const e: Env = { config: req.config, env, target: deps.target, vars: await varsRead }
  return deps.reporter.step(`check ${env.name} configuration on ${deps.target.description}`, async () => {
    const model = await modelResolved
    const [, source] = await Promise.all([refuseModel(deps, e, model, strategy), req.tag ? refuseMissingImages(deps, e, model, req.tag, strategy) : undefined])
    return { e, model, ...(source ? { source } : {}) }
  })
}

/** What a locked deploy works on: the records as read under the lock and the release it is making. */
interface DeployRun {
  releases: ReleaseRecord[]
  previous: ReleaseRecord | undefined
  record: ReleaseRecord
  prepared: PreparedRelease
  /** Images it builds: none when it promotes (--tag). */
  built: string[]
  started: Date
  recordFailed: () => Promise<void>
}

/** Under the lock: picks the tag, prepares the release (override, resolved config) and says what an interruption leaves. */
async function startRun(req: DeployRequest, deps: Deps, e: Env, model: ComposeModel, started: Date, git: string | undefined, progress: RunProgress, hooks: RunHooks): Promise<DeployRun> {
  const { config, env } = e
  const releases = await readReleases(deps.target.state, env.name)
  const previous = findActive(releases)
  if (previous) progress.from = previous.tag
  const taken = req.tag ? [] : (await Promise.all([allReleaseTags(deps), tagsWithImages(deps, config.app)])).flat()
  const tag = req.tag ?? nextTag(started, new Set(taken))
  progress.tag = tag
  // SPEC §11: under the lock (one operator's hook at a time), once the tag is known, before anything is written.
  await hooks.before({ release: tag, previous: previous?.tag })
  // recreate only: blue-green takes an equal config file for the colour that still runs it (a switch, not a
  // re-apply), and Swarm records a stack file in its place.
  const sameTag = req.tag && strategyOf(env).name === 'recreate' ? releases.find((r) => r.tag === req.tag) : undefined
  const prepared = await prepareRelease(deps, config, env, model, tag, git, sameTag)
  if (prepared.restartAdded.length > 0) {
    const one = prepared.restartAdded.length === 1
    deps.reporter.warn(`${prepared.restartAdded.join(', ')} had no restart policy: berth runs ${one ? 'it' : 'them'} with restart: unless-stopped so ${one ? 'it comes' : 'they come'} back after a reboot`)
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
    sourceHash: prepared.sourceHash,
  }
  // Re-deploying the active release (--tag of the active tag): a failure must not replace the record of what
  // runs again after the automatic rollback (or still runs, for blue-green); the audit log keeps the attempt.
  const redeploy = previous?.tag === tag
  let recorded = false
  const recordFailed = async () => {
    if (redeploy || recorded) return
    await writeReleases(deps.target.state, env.name, withRecord(releases, { ...record, durationMs: deps.now().getTime() - started.getTime() }))
    recorded = true
  }
  progress.onInterrupt = async () => {
    await recordFailed()
    if (redeploy) return `the re-deploy of ${tag} was interrupted and may be partly applied; its record is unchanged: berth deploy ${env.name} --tag ${tag}`
    return `release ${tag} is recorded as failed and may be partly applied${previous ? `; the last good release is ${previous.tag}: berth rollback ${env.name} --to ${previous.tag}` : ''}`
  }
  return { releases, previous, record, prepared, built: req.tag ? [] : prepared.builtImages, started, recordFailed }
}

/**
 * On the way out of a failed step: the error that ended it is what the operator must see, so a record that
 * cannot be written (the host's connection gone too) is a warning; the run's end tries once more (lockedRun).
 */
async function recordFailedOrWarn(deps: Deps, run: DeployRun): Promise<void> {
  await run.recordFailed().catch((error: unknown) => {
    deps.reporter.warn(`release ${run.record.tag} could not be recorded as failed yet: ${error instanceof Error ? error.message : String(error)}`)
  })
}

/** --tag of a release built on another engine: its images are copied here first (SPEC §10); a failed copy is recorded as a failed build is. */
async function copyImages(deps: Deps, source: ImageSource | undefined, run: DeployRun): Promise<void> {
  if (!source) return
  try {
    await copyReleaseImages(deps, source, run.record.tag)
  } catch (error) {
    await recordFailedOrWarn(deps, run)
    throw error
  }
}

/** Builds the release's images; a failed build changed nothing that runs, and is recorded before it is reported. */
async function build(deps: Deps, e: Env, model: ComposeModel, run: DeployRun): Promise<void> {
  if (run.built.length === 0) return
  try {
    await deps.reporter.step(`build ${run.record.tag}`, (update) => buildRelease(deps, e.env, model, run.prepared, update))
  } catch (error) {
    await recordFailedOrWarn(deps, run)
    throw error
  }
}

/** The strategy applies the release; whatever ends it early, the release is recorded as failed. */
async function applyOrRecordFailed(strategy: Strategy, deps: Deps, e: Env, run: DeployRun, watching: boolean) {
  try {
    return await strategy.apply(deps, e, run.record, { previous: run.previous, failed: run.recordFailed, ...(watching ? { watching } : {}) })
  } catch (error) {
    await recordFailedOrWarn(deps, run)
    throw error
  }
}

/**
 * SPEC §9 watch: the release is live and recorded active while the strategy watches it. A failure inside the
 * window has switched back to `previous` by itself: recorded here (the release rolled-back, with the reason)
 * and exit 3. A signal ends the watch only, not the release; a second one interrupts the run as usual.
 */
async function watchRelease(deps: Deps, e: Env, release: ReleaseRecord, previous: ReleaseRecord, progress: RunProgress, watchMs: number): Promise<void> {
  const { env } = e
  const strategy = strategyOf(env)
  if (!strategy.watch) return
  const controller = new AbortController()
  progress.intercept = (signal) => {
    progress.intercept = undefined
    controller.abort(signal)
    return true
  }
  progress.onInterrupt = async () => `release ${release.tag} is active and recorded so; its watch was cut short, and ${previous.tag} may still be running beside it: berth status ${env.name}`
  const outcome = await strategy.watch(deps, e, release, watchMs, controller.signal).finally(() => (progress.intercept = undefined))
  if (outcome.ended === 'interrupted') {
    deps.reporter.warn(`${outcome.signal} ended the watch of ${env.name}, not the release: ${release.tag} stays live and is recorded active; nothing was switched back`)
    return
  }
  if (outcome.ended === 'over') return
  const releases = await readReleases(deps.target.state, env.name)
  const now = deps.now().toISOString()
  const back = activate(releases, previous.tag, now, 'rolled-back').map((r) => (r.tag === release.tag ? { ...r, reason: mask(`watch: ${outcome.reason}`) } : r))
  await writeReleases(deps.target.state, env.name, back)
  throw new RolledBackError(
    `${env.name} ${release.tag} failed inside its ${Math.round(watchMs / 1000)}s watch window (${outcome.reason}); the routes were switched back to ${previous.tag}, which serves again`,
    `The release is recorded rolled-back with the reason: berth releases ${env.name}`,
  )
}

/** The release becomes active, the one it replaced previous; then its watch window, if any; then retention. */
async function recordSuccess(deps: Deps, e: Env, run: DeployRun, applied: Applied, progress: RunProgress, watchMs: number): Promise<DeployResult> {
  const { env } = e
  const { record, previous } = run
  const now = deps.now()
  const durationMs = now.getTime() - run.started.getTime()
  const done: ReleaseRecord = { ...recordApplied(record, applied), durationMs }
  await writeReleases(deps.target.state, env.name, activate(withRecord(run.releases, done), record.tag, now.toISOString()))
  if (watchMs > 0 && previous) await watchRelease(deps, e, done, previous, progress, watchMs)
  progress.onInterrupt = async () => `release ${record.tag} is active; retention was cut short, which the next deploy finishes`
  const removedImages = await pruneReleases(deps, e, strategyOf(env))
  return {
    environment: env.name,
    project: env.project,
    tag: record.tag,
    ...(previous ? { previous: previous.tag } : {}),
    built: run.built,
    restartAdded: run.prepared.restartAdded,
    removedImages,
    durationMs,
  }
}
