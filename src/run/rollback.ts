import { hashEnvFile, readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { PreflightError } from '../errors.js'
import { type Env, applyAndWait, recordedModel, reportFailure, restorePrevious } from '../health/gate.js'
import { poolNetworks, refuseNetworkCeiling } from '../preflight/addressPools.js'
import { applyBlueGreen, edgePreflight, plannedNetworks } from '../strategy/blueGreen/apply.js'
import { type ComposeModel, releaseOverride } from '../release/model.js'
import type { Deps } from './context.js'
import { checkEngine } from '../target/engine.js'
import { lockedRun } from './lockedRun.js'
import { refusePortClashes } from '../preflight/preflight.js'
import { refuseSharedNames } from '../preflight/sharedNetworks.js'
import { missingImages, prepareRelease, resolveModel } from '../release/prepare.js'
import { activate, findActive, findPrevious, readReleases, type ReleaseRecord, writeReleases } from '../state/releases.js'
import { refuseDamagedState } from '../state/damage.js'

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
}

/** SPEC §4 rollback: re-apply a kept release's recorded config (images and config together). */
export async function rollback(req: RollbackRequest, deps: Deps): Promise<RollbackResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  // The engine check and the target's checks run at once; the engine's verdict is still the first one
  // reported (exit 6 before an unknown release).
  const engine = checkEngine(deps)
  const checked = (async () => {
    await refuseDamagedState(req.config, env)
    const e: Env = { config: req.config, env, target: deps.target, vars: await readEnvFile(env) }
    const releases = await readReleases(req.config.stateDir, env.name)
    return { e, releases, target: chooseTarget(deps, e, releases, req.to) }
  })()
  checked.then(({ target }) => target).catch(() => undefined)
  await engine
  const { e, releases } = await checked
  const active = findActive(releases)
  const target = await deps.reporter.step(`check rollback target for ${env.name}`, async () => {
    const chosen = (await checked).target
    await edgePreflight(deps, req.config, env)
    return chosen
  })

  const currentModel = req.imagesOnly ? await imagesOnlyModel(deps, e, target) : undefined
  if (env.confirm && !(await req.confirm(`Roll ${env.name} back from ${active?.tag ?? '(nothing active)'} to ${target.tag}?`))) {
    throw new PreflightError(`rollback of ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  return lockedRun({ config: req.config, env, action: 'rollback', command: req.command, deps }, async (progress) => {
    // Read again under the lock, before anything changes: a deploy may have finished since the checks.
    const current = await readReleases(req.config.stateDir, env.name)
    progress.tag = target.tag
    if (active) progress.from = active.tag
    let applied: ReleaseRecord = target
    if (currentModel) {
      // The release's record now describes what was applied: its images with today's config.
      const prepared = await prepareRelease(deps, req.config, env, currentModel, target.tag, target.git)
      applied = { ...target, configFile: prepared.configFile, images: prepared.images, envHash: await hashEnvFile(env.envFile) }
    }
    progress.onInterrupt = async () =>
      `the rollback to ${target.tag} may be partly applied; the records still name ${active?.tag ?? 'no release'} as active${active ? `: berth rollback ${env.name} --to ${active.tag} or again --to ${target.tag}` : ''}`
    let configHashes: Record<string, string>
    if (env.strategy === 'blue-green') {
      const outcome = await applyBlueGreen(deps, e, applied)
      applied = { ...applied, colour: outcome.colour, images: { ...applied.images, ...outcome.stateful.images }, serviceReleases: outcome.stateful.releases }
      configHashes = outcome.configHashes
    } else {
      const result = await applyAndWait(deps, e, applied)
      if (!result.ok) {
        await reportFailure(deps, e, applied, result.failure)
        return restorePrevious(deps, e, target.tag, result.failure, active)
      }
      configHashes = result.configHashes
    }
    const now = deps.now()
    const updated = activate(
      current.map((r) => (r.tag === applied.tag ? { ...applied, configHashes } : r)),
      target.tag,
      now.toISOString(),
      'rolled-back',
    )
    await writeReleases(req.config.stateDir, env.name, updated)
    return {
      environment: env.name,
      project: env.project,
      tag: target.tag,
      ...(active ? { from: active.tag } : {}),
      imagesOnly: req.imagesOnly,
      durationMs: now.getTime() - started.getTime(),
    }
  })
}

/** --images-only: today's compose config must need no image the target release lacks. */
async function imagesOnlyModel(deps: Deps, e: Env, target: ReleaseRecord): Promise<ComposeModel> {
  const model = await resolveModel(deps, e.env)
  const { builtImages } = releaseOverride(model, { app: e.config.app, env: e.env.name, tag: target.tag })
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

/** Refuses before anything changes when the target is unknown, already active, or its images are gone. */
async function chooseTarget(deps: Deps, e: Env, releases: readonly ReleaseRecord[], to: string | undefined): Promise<ReleaseRecord> {
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
  const model = await recordedModel(e, target)
  const networks = e.env.strategy === 'blue-green' ? await plannedNetworks(e, model) : poolNetworks(model, e.env.project)
  await Promise.all([refusePortClashes(deps, model, e.env), refuseSharedNames(deps, model, e.env), refuseNetworkCeiling(deps, e.env.name, networks)])
  return target
}
