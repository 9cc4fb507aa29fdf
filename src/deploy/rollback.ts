import { hostname } from 'node:os'

import { readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { PreflightError } from '../errors.js'
import { type Env, applyAndWait, reportFailure, restorePrevious } from './apply.js'
import { type Deps, operator } from './context.js'
import { checkEngine } from './engine.js'
import { acquireLock } from './lock.js'
import { missingImages, prepareRelease, resolveModel } from './release.js'
import { activate, findActive, findPrevious, readReleases, type ReleaseRecord, writeReleases } from './releaseStore.js'

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
  await checkEngine(deps.run)
  const vars = await readEnvFile(env)
  const e: Env = { config: req.config, env, vars }
  const releases = await readReleases(req.config.stateDir, env.name)
  const active = findActive(releases)
  const target = await deps.reporter.step(`check rollback target for ${env.name}`, () => chooseTarget(deps, e, releases, req.to))

  if (env.confirm && !(await req.confirm(`Roll ${env.name} back from ${active?.tag ?? '(nothing active)'} to ${target.tag}?`))) {
    throw new PreflightError(`rollback of ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  const unlock = await acquireLock(
    req.config.stateDir,
    env.name,
    { pid: process.pid, host: hostname(), by: operator(), command: req.command, startedAt: started.toISOString() },
    deps.reporter,
  )
  try {
    let applied: ReleaseRecord = target
    if (req.imagesOnly) {
      const model = await resolveModel(deps, env)
      const prepared = await prepareRelease(deps, req.config, env, model, target.tag, target.git)
      const missing = await missingImages(deps, prepared.builtImages)
      if (missing.length > 0) {
        throw new PreflightError(
          `--images-only: the current compose config needs ${missing.join(', ')}, which release ${target.tag} does not have`,
          `Roll back images and config together: berth rollback ${env.name} --to ${target.tag}`,
          'RELEASE_IMAGES_MISSING',
        )
      }
      applied = { ...target, configFile: prepared.configFile, images: prepared.images }
    }
    const result = await applyAndWait(deps, e, applied)
    if (!result.ok) {
      await reportFailure(deps, e, applied, result.failure)
      return await restorePrevious(deps, e, target.tag, result.failure, active)
    }
    const now = deps.now()
    const current = await readReleases(req.config.stateDir, env.name)
    const updated = activate(
      current.map((r) => (r.tag === applied.tag ? applied : r)),
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
  } finally {
    await unlock()
  }
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
  const missing = await missingImages(deps, Object.values(target.images).filter((img) => target.builtImages.includes(img)))
  if (missing.length > 0) {
    throw new PreflightError(
      `release ${target.tag} of ${e.env.name} cannot be restored: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} gone from this host`,
      `Releases that can be rolled back to: ${list}`,
      'RELEASE_IMAGES_MISSING',
    )
  }
  return target
}
