import type { EnvironmentConfig } from '../config/types.js'
import { psByLabels } from '../docker/docker.js'
import { parsePs } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import type { Env } from '../health/gate.js'
import { type ComposeModel, publishedPorts, releaseOverride } from '../release/model.js'
import { missingImages, tagsWithImages } from '../release/prepare.js'
import type { Strategy } from '../strategy/strategy.js'
import { refuseNetworkCeiling } from './addressPools.js'
import { refuseSharedNames } from './sharedNetworks.js'
import type { Deps } from '../run/context.js'
import { findPortClashes } from '../inspect/hostPorts.js'

/** SPEC §5: a fixed container_name would collide with the same service of every other environment. */
export function refuseFixedNames(model: ComposeModel, env: EnvironmentConfig): void {
  const fixed = Object.entries(model.services).filter(([, s]) => s.container_name).map(([name, s]) => `${name} (container_name: ${s.container_name})`)
  if (fixed.length > 0) {
    throw new PreflightError(
      `${env.name}: ${fixed.join(', ')} ${fixed.length === 1 ? 'has a' : 'have a'} fixed container_name, which would collide across environments`,
      'Remove container_name: compose names containers <project>-<service>-N, and the project is <app>-<env>.',
      'FIXED_CONTAINER_NAME',
    )
  }
}

/** SPEC §5: refuse when a port this environment would publish is published by another project. */
export async function refusePortClashes(deps: Deps, wanted: ComposeModel, env: EnvironmentConfig, projects: readonly string[]): Promise<void> {
  if (publishedPorts(wanted).length === 0) return
  const { stdout } = await deps.run(psByLabels(deps.target.engine, []))
  const own = new Set(projects)
  const clashes = findPortClashes(wanted, env.project, parsePs(stdout, deps.target.labels).filter((c) => !own.has(c.project ?? '')))
  if (clashes.length === 0) return
  throw new PreflightError(
    `${env.name}: ${clashes.map((c) => `host port ${c.port}/${c.protocol} (service ${c.service}) is already published by ${c.holder}`).join('; ')}`,
    `Give ${env.name} its own port in ${env.envFile}, or stop what holds it.`,
    'PORT_IN_USE',
  )
}

/**
 * The deploy's and rollback's checks of a model before anything changes (SPEC §5): no fixed container_name,
 * the strategy's own refusals, then what the host must have room for — its published ports free, no second
 * answer to one name on a shared network, the networks it needs in the engine's address pools.
 */
export async function refuseModel(deps: Deps, e: Env, model: ComposeModel, strategy: Strategy): Promise<void> {
  refuseFixedNames(model, e.env)
  const plan = await strategy.preflight(deps, e, model)
  // Independent queries: together, so the operator waits for the slowest, not the sum.
  await Promise.all([
    refusePortClashes(deps, plan.published, e.env, strategy.projects(e.env)),
    refuseSharedNames(deps, model, e.env),
    refuseNetworkCeiling(deps, e.env.name, plan.networks),
  ])
}

/** deploy --tag: the release's images must be on the engine (promotion builds nothing). */
export async function refuseMissingImages(deps: Deps, e: Env, model: ComposeModel, tag: string): Promise<void> {
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
