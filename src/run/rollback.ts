import { hashEnvFile, readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { PreflightError } from '../errors.js'
import { type Env, recordedModel } from '../health/gate.js'
import { refuseModel } from '../preflight/preflight.js'
import { type ComposeModel, releaseIdentity, releaseOverride } from '../release/model.js'
import { missingImages, prepareRelease, resolveModel } from '../release/prepare.js'
import { activate, findActive, findPrevious, readReleases, type ReleaseRecord, writeReleases } from '../state/releases.js'
import { recordApplied, strategyOf, type Strategy } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import { runHooks } from '../hooks/hooks.js'
import type { HookRecord } from '../state/audit.js'
import { notify } from '../notify/notify.js'
import type { Deps } from './context.js'
import { lockedRun, type RunProgress } from './lockedRun.js'
import { refuseDamagedState } from './stateCheck.js'

export interface RollbackRequest {
  config: Config
  envName: string
  /** Target tag; default: the previous release. */
  to?: string
  /** Apply the current compose config and env file with the target's images. */
  imagesOnly: boolean
  confirm: (question: string) => Promise<boolean>
  command: string
}

export interface RollbackResult {
  environment: string
  project: string
  tag: string
  from?: string
  imagesOnly: boolean
  durationMs: number
  /** SPEC §11: the hooks that ran, each with how it ended. */
  hooks?: HookRecord[]
}

/** SPEC §4 rollback: re-apply a kept release's recorded config (images and config together). */
export async function rollback(req: RollbackRequest, deps: Deps): Promise<RollbackResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  const strategy = strategyOf(env)
  const { e, active, target, reapplyChecks } = await preflight(req, deps, strategy)
  const currentModel = req.imagesOnly ? await imagesOnlyModel(deps, e, target) : undefined
  if (env.confirm && !(await req.confirm(`Roll ${env.name} back from ${active?.tag ?? '(nothing active)'} to ${target.tag}?`))) {
    throw new PreflightError(`rollback of ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  return lockedRun({ config: req.config, env, action: 'rollback', command: req.command, deps, ended: (outcome) => notify(deps, e, outcome) }, async (progress) => {
    const hooks = runHooks(deps, e, 'rollback', progress)
    const facts = { release: target.tag, previous: active?.tag }
    progress.tag = target.tag
    if (active) progress.from = active.tag
    // SPEC §11: under the lock, before anything is written or applied.
    await hooks.before(facts)
    let now: Date
    try {
      // Read again under the lock, before anything changes: a deploy may have finished since the checks.
      const current = await readReleases(deps.target.state, env.name)
      const applying = await releaseToApply(deps, e, target, currentModel)
      describeRun(progress, e, target, active)
      const applied = await strategy.apply(deps, e, applying, { previous: active, failed: async () => {}, ...(reapplyChecks ? { beforeReapply: reapplyChecks } : {}) })
      now = deps.now()
      await writeReleases(deps.target.state, env.name, activate(current.map((r) => (r.tag === applying.tag ? recordApplied(applying, applied) : r)), target.tag, now.toISOString(), 'rolled-back'))
    } catch (error) {
      await hooks.failed(error, facts)
      throw error
    }
    await hooks.after(facts)
    return {
      environment: env.name,
      project: env.project,
      tag: target.tag,
      ...(active ? { from: active.tag } : {}),
      imagesOnly: req.imagesOnly,
      durationMs: now.getTime() - started.getTime(),
      ...(hooks.records.length > 0 ? { hooks: [...hooks.records] } : {}),
    }
  })
}

/**
 * SPEC §5: the target is known, not active, its images here, the host has room for it. The engine check and
 * the target's checks run at once; the engine's verdict is still the first one reported (exit 6 before an
 * unknown release).
 */
async function preflight(req: RollbackRequest, deps: Deps, strategy: Strategy): Promise<Preflighted> {
  const env = selectEnvironment(req.config, req.envName)
  const engine = checkEngine(deps)
  const checked = (async () => {
    await refuseDamagedState(deps, req.config, env, strategy)
    const e: Env = { config: req.config, env, target: deps.target, vars: await readEnvFile(env) }
    const releases = await readReleases(deps.target.state, env.name)
    return { e, releases, target: chooseTarget(deps, e, releases, req, strategy) }
  })()
  checked.then(({ target }) => target).catch(() => undefined)
  await engine
  const { e, releases } = await checked
  const chosen = await deps.reporter.step(`check rollback target for ${env.name} on ${deps.target.description}`, async () => (await checked).target)
  return { e, active: findActive(releases), ...chosen }
}

interface Preflighted {
  e: Env
  active: ReleaseRecord | undefined
  target: ReleaseRecord
  /** The checks a re-apply needs, left for the strategy when the rollback is expected to be a switch. */
  reapplyChecks?: () => Promise<void>
}

/** With --images-only, the release's record now describes what is applied: its images with today's config. */
async function releaseToApply(deps: Deps, e: Env, target: ReleaseRecord, currentModel: ComposeModel | undefined): Promise<ReleaseRecord> {
  if (!currentModel) return target
  const prepared = await prepareRelease(deps, e.config, e.env, currentModel, target.tag, target.git)
  return { ...target, configFile: prepared.configFile, sourceHash: prepared.sourceHash, images: prepared.images, envHash: await hashEnvFile(e.env.envFile) }
}

function describeRun(progress: RunProgress, e: Env, target: ReleaseRecord, active: ReleaseRecord | undefined): void {
  progress.tag = target.tag
  if (active) progress.from = active.tag
  progress.onInterrupt = async () =>
    `the rollback to ${target.tag} may be partly applied; the records still name ${active?.tag ?? 'no release'} as active${active ? `: berth rollback ${e.env.name} --to ${active.tag} or again --to ${target.tag}` : ''}`
}

/** --images-only: today's compose config must need no image the target release lacks. */
async function imagesOnlyModel(deps: Deps, e: Env, target: ReleaseRecord): Promise<ComposeModel> {
  const model = await resolveModel(deps, e.env)
  const { builtImages } = releaseOverride(model, releaseIdentity(e, target.tag))
  const missing = await missingImages(deps, builtImages)
  if (missing.length > 0) {
    throw new PreflightError(
      `--images-only: the current compose config needs ${missing.join(', ')}, which release ${target.tag} does not have`,
      `Roll back images and config together: berth rollback ${e.env.name} --to ${target.tag}`,
      'RELEASE_IMAGES_MISSING',
    )
  }
  return model
}

/**
 * Refuses before anything changes when the target is unknown or already active, and, unless the rollback
 * is a switch to what the strategy still runs (blue-green, `idle: running`: SPEC §9, traffic moves within
 * half a second), when its images are gone or the host has no room for it. Those checks then wait for the
 * strategy, in case it has to re-apply after all.
 */
async function chooseTarget(deps: Deps, e: Env, releases: readonly ReleaseRecord[], req: Pick<RollbackRequest, 'to' | 'imagesOnly'>, strategy: Strategy): Promise<Omit<Preflighted, 'e' | 'active'>> {
  const target = findTarget(e, releases, req.to)
  const reapplyChecks = () => refuseReapply(deps, e, releases, target, strategy)
  if (!req.imagesOnly && (await strategy.switchesTo?.(deps, e, target))) return { target, reapplyChecks }
  await reapplyChecks()
  return { target }
}

function findTarget(e: Env, releases: readonly ReleaseRecord[], to: string | undefined): ReleaseRecord {
  const available = releases.filter((r) => r.status !== 'active')
  const list = available.length ? available.map((r) => `${r.tag} (${r.status})`).join(', ') : 'none'
  const target = to === undefined ? findPrevious(releases) : releases.find((r) => r.tag === to)
  if (!target) {
    throw new PreflightError(
      to === undefined ? `${e.env.name} has no previous release to roll back to` : `${e.env.name} has no release ${to}`,
      `Releases of ${e.env.name} that can be rolled back to: ${list}. See: berth releases ${e.env.name}`,
      'UNKNOWN_RELEASE',
    )
  }
  if (target.status === 'active') {
    throw new PreflightError(
      `${target.tag} is already the active release of ${e.env.name}`,
      `To re-apply it, run: berth deploy ${e.env.name} --tag ${target.tag}. Releases to roll back to: ${list}`,
      'ALREADY_ACTIVE',
    )
  }
  return target
}

/** A re-apply of `target` needs its built images here and room on the host for it. */
async function refuseReapply(deps: Deps, e: Env, releases: readonly ReleaseRecord[], target: ReleaseRecord, strategy: Strategy): Promise<void> {
  const available = releases.filter((r) => r.status !== 'active')
  const built = (r: ReleaseRecord) => Object.values(r.images).filter((img) => r.builtImages.includes(img))
  const missing = await missingImages(deps, built(target))
  if (missing.length > 0) {
    // Name only the releases whose images are all still here: one more image listing, on the way out.
    const others = available.filter((r) => r.tag !== target.tag)
    const gone = new Set(await missingImages(deps, others.flatMap(built)))
    const restorable = others.filter((r) => built(r).every((img) => !gone.has(img)))
    throw new PreflightError(
      `release ${target.tag} of ${e.env.name} cannot be restored: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} gone from this host`,
      restorable.length
        ? `Releases whose images are still here: ${restorable.map((r) => `${r.tag} (${r.status})`).join(', ')}`
        : `No other release of ${e.env.name} has its images here; deploy a new one: berth deploy ${e.env.name}`,
      'RELEASE_IMAGES_MISSING',
    )
  }
  await refuseModel(deps, e, await recordedModel(e, target), strategy)
}
