import type { EnvironmentConfig } from '../config/types.js'
import { psByLabels } from '../docker/docker.js'
import { parsePs } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import type { Env } from '../health/gate.js'
import { type ComposeModel, publishedPorts, releaseIdentity, releaseOverride } from '../release/model.js'
import { missingImages, tagsWithImages } from '../release/prepare.js'
import { findImageSource, type ImageSource, otherEngines, type SourceSearch } from '../release/promote.js'
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
    refuseNetworkCeiling(deps, e.env.name, plan.networks, e.config.networkPool),
  ])
}

/**
 * deploy --tag: promotion builds nothing, so the release's built images must be on the environment's engine, or
 * all on another environment's engine (SPEC §10), which is returned: they are copied from there once locked.
 * Refuses otherwise, listing the releases with images on this engine and where the tag's images are, if anywhere.
 */
export async function refuseMissingImages(deps: Deps, e: Env, model: ComposeModel, tag: string, strategy: Strategy): Promise<ImageSource | undefined> {
  const { builtImages } = releaseOverride(model, releaseIdentity(e, tag))
  const elsewhere = new Set(await strategy.runsWithoutLocalImages?.(deps, e, tag, builtImages))
  const missing = (await missingImages(deps, builtImages)).filter((ref) => !elsewhere.has(ref))
  if (missing.length === 0) return undefined
  const search = await findImageSource(deps, e.config, builtImages)
  if (search.source) {
    deps.reporter.info(`${tag}'s images are on ${search.source.description}: they are copied to ${deps.target.description} once ${e.env.name} is locked`)
    return { from: search.source, refs: builtImages, missing }
  }
  for (const u of search.unreachable) deps.reporter.warn(`could not ask ${u.target.description} for ${tag}'s images: ${u.why}`)
  const alone = otherEngines(deps, e.config).length === 0
  throw imagesMissing(e, tag, missing, search, alone ? undefined : deps.target.description, await tagsWithImages(deps, e.config.app))
}

/** The refusal: what is missing where, the releases that could be deployed instead, and where the tag's images are. */
function imagesMissing(e: Env, tag: string, missing: string[], search: SourceSearch, engine: string | undefined, available: string[]): PreflightError {
  // With one engine only, "this host" says it all; with several, each is named.
  const here = engine ? `on ${engine}` : 'here'
  const where = [...search.partial.map((p) => `${p.target.description} has ${p.has.join(', ')}`), ...search.unreachable.map((u) => `${u.target.description} could not be asked`)]
  const releases = available.length ? `Releases with images ${here}: ${available.join(', ')}` : `No release of ${e.config.app} has images ${here}; deploy without --tag to build one.`
  return new PreflightError(
    `release ${tag} cannot be deployed to ${e.env.name}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not ${engine ? `on ${engine}, and no other environment's engine has all of ${tag}'s images` : 'on this host'}`,
    where.length ? `${releases.replace(/\.$/, '')}. Where ${tag}'s images are: ${where.join('; ')}.` : releases,
    'RELEASE_IMAGES_MISSING',
  )
}
