import { rm } from 'node:fs/promises'
import { join } from 'node:path'

import type { Config, EnvironmentConfig } from '../config/types.js'
import { BerthError, LockHeldError } from '../errors.js'
import { readOrDamaged } from '../state/damage.js'
import { environmentPaths } from '../state/paths.js'
import { expiresAt, isExpired, type PreviewRecord, readPreview } from '../state/preview.js'
import { readReleases } from '../state/releases.js'
import { strategyOf } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import { type Deps, onTarget, projectContainers } from './context.js'
import { lockedRun } from './lockedRun.js'
import { registerEnvSecrets, runningProject } from './output.js'
import { refuseDamagedState } from './stateCheck.js'

export interface PruneRequest {
  config: Config
  /** --dry-run: say what would go, change nothing (no lock either). */
  dryRun: boolean
  /** The command line, recorded in each preview's lock. */
  command: string
}

export interface PrunedPreview {
  environment: string
  project: string
  pattern: string
  lastDeployAt: string
  expiresAt: string
  /** Names of its containers, removed (or, with --dry-run, that would be). */
  containers: string[]
  envFile: string
}

export interface SkippedPreview {
  environment: string
  /** Why it was left as it is (locked by another run, a damaged state file, its env file gone). */
  reason: string
}

export interface PruneResult {
  dryRun: boolean
  /** The expired previews taken down (with --dry-run: those that would be). */
  pruned: PrunedPreview[]
  /** Expired previews left as they are this time; the next prune tries them again. */
  skipped: SkippedPreview[]
  durationMs: number
}

/**
 * SPEC §11 prune --expired: every preview whose ttl has run out since its last deploy is taken down as `berth
 * down --volumes` would (containers, networks, volumes, edge routes), under its own lock, and then forgotten: its
 * state directory and its env file are removed. Nothing else changes — not a literal environment, not a preview
 * deployed again meanwhile (read again under its lock), not one locked by another run (skipped, reported).
 */
export async function prune(req: PruneRequest, deps: Deps): Promise<PruneResult> {
  const started = deps.now()
  const previews = [...req.config.environments.values()].filter((env) => env.preview?.ttlMs !== undefined)
  const pruned: PrunedPreview[] = []
  const skipped: SkippedPreview[] = []
  if (previews.length > 0) await checkEngine(deps)
  for (const env of previews) {
    const read = await readOrDamaged(readPreview(deps.target.state, env.name))
    if (!read.ok) {
      skipped.push({ environment: env.name, reason: `${read.damaged.file} is damaged (${read.damaged.problem}): ${read.damaged.fix}` })
      continue
    }
    if (!read.value || !isExpired(read.value, env.preview?.ttlMs, deps.now())) continue
    const on = onTarget(deps, env)
    const outcome = req.dryRun ? await describe(on, env, read.value) : await takeDown(req, on, env)
    if (outcome === undefined) continue
    if ('reason' in outcome) skipped.push(outcome)
    else pruned.push(outcome)
  }
  return { dryRun: req.dryRun, pruned, skipped, durationMs: deps.now().getTime() - started.getTime() }
}

/** What prune takes down of one expired preview, read only. */
async function describe(deps: Deps, env: EnvironmentConfig, record: PreviewRecord): Promise<PrunedPreview> {
  const containers = (await Promise.all(strategyOf(env).projects(env).map((p) => projectContainers(deps, p)))).flat()
  return {
    environment: env.name,
    project: env.project,
    pattern: record.pattern,
    lastDeployAt: record.lastDeployAt,
    expiresAt: (expiresAt(record, env.preview?.ttlMs) as Date).toISOString(),
    containers: containers.map((c) => c.name).sort(),
    envFile: env.envFile,
  }
}

/** Down with its volumes under its lock, then its env file and state go; undefined when a deploy renewed it meanwhile. */
async function takeDown(req: PruneRequest, deps: Deps, env: EnvironmentConfig): Promise<PrunedPreview | SkippedPreview | undefined> {
  const strategy = strategyOf(env)
  const { state } = deps.target
  const dir = environmentPaths(state.dir, env.name).dir
  try {
    await registerEnvSecrets(env)
    await refuseDamagedState(deps, req.config, env, strategy)
    const done = await lockedRun({ config: req.config, env, action: 'down', command: req.command, deps }, async (progress) => {
      // Read again under the lock: a deploy may have renewed it since.
      const record = await readPreview(state, env.name)
      if (!record || !isExpired(record, env.preview?.ttlMs, deps.now())) return undefined
      const shown = await describe(deps, env, record)
      const releases = await readReleases(state, env.name)
      const { target, active } = await runningProject(deps, env, releases)
      if (active) progress.tag = active.tag
      progress.onInterrupt = async () => `${env.project} may be partly taken down: run berth prune --expired again`
      await deps.reporter.step(`take down expired ${env.name} (${env.project}) with its volumes on ${deps.target.description}`, () =>
        strategy.down(deps, { config: req.config, env, target: deps.target, vars: {} }, target, true),
      )
      await rm(env.envFile, { force: true })
      // Everything but the lock, which the run still holds; the audit line of this run and the lock go once it ends.
      for (const entry of await state.files.list(dir)) if (entry.name !== 'lock') await state.files.remove(join(dir, entry.name))
      return shown
    })
    if (done) {
      await state.files.remove(environmentPaths(state.dir, env.name).audit)
      await state.files.removeEmptyDir(dir)
    }
    return done
  } catch (error) {
    if (error instanceof LockHeldError) return { environment: env.name, reason: error.message }
    if (error instanceof BerthError && (error.code === 'ENV_FILE_MISSING' || error.code === 'STATE_DAMAGED')) return { environment: env.name, reason: error.message }
    throw error
  }
}
