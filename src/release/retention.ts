import type { Env } from '../health/gate.js'
import { imageRemove } from '../docker/docker.js'
import type { Deps } from '../run/context.js'
import { imagesToRemove, planRetention, readReleases, type ReleaseRecord, removeUnreferencedConfigs, writeReleases } from '../state/releases.js'
import { type DamagedFile, readOrDamaged } from '../state/damage.js'
import { environmentsWithState } from '../state/paths.js'
import type { Strategy } from '../strategy/strategy.js'
import type { StateStore } from '../target/target.js'

/** The records of every environment with state except `except`; those whose file is damaged are named instead. */
export async function recordsOfOthers(store: StateStore, except: string | undefined): Promise<{ records: ReleaseRecord[]; damaged: ({ env: string } & DamagedFile)[] }> {
  const envs = (await environmentsWithState(store)).filter((name) => name !== except)
  const reads = await Promise.all(envs.map(async (env) => ({ env, read: await readOrDamaged(readReleases(store, env)) })))
  return {
    records: reads.flatMap(({ read }) => (read.ok ? read.value : [])),
    damaged: reads.flatMap(({ env, read }) => (read.ok ? [] : [{ env, ...read.damaged }])),
  }
}

/**
 * Every tag recorded by any environment: a new tag must not reuse one (images are shared). An environment
 * whose records are damaged is skipped with a warning rather than refusing this one's deploy: its tags
 * were times already past, and the caller also excludes every tag that has images on this host.
 */
export async function allReleaseTags(deps: Deps): Promise<string[]> {
  const { records, damaged } = await recordsOfOthers(deps.target.state, undefined)
  for (const d of damaged) deps.reporter.warn(`the release tags of ${d.env} are unknown (${d.file} is damaged); the new tag is checked against the images on this host and the other records`)
  return records.map((r) => r.tag)
}

/**
 * SPEC §3 retention after a successful deploy: drop this environment's releases beyond `keep` (never the
 * active or previous one) and remove their images, unless a kept release of any environment still uses them.
 * When another environment's records are damaged, nobody can tell which images its releases use: retention
 * is skipped whole (nothing dropped, so the next deploy after the repair finds the same releases to drop).
 * Then the strategy's own part (Swarm: the registry's tags).
 */
export async function pruneReleases(deps: Deps, e: Env, strategy: Strategy): Promise<string[]> {
  const { env } = e
  const releases = await readReleases(deps.target.state, env.name)
  const { kept, dropped } = planRetention(releases, env.keep)
  if (dropped.length === 0) {
    // Also sweeps configs no record names any more (a run killed before recording, a re-applied tag).
    await removeUnreferencedConfigs(deps.target.state, env.name, kept)
    return []
  }
  const others = await recordsOfOthers(deps.target.state, env.name)
  if (others.damaged.length > 0) {
    await removeUnreferencedConfigs(deps.target.state, env.name, releases)
    const names = others.damaged.map((d) => `${d.env} (${d.file})`).join(', ')
    deps.reporter.warn(`retention skipped: the release records of ${names} are damaged, so berth cannot tell which images they use; ${dropped.map((r) => r.tag).join(', ')} and their images are kept until a deploy of ${env.name} after the repair`)
    return []
  }
  await writeReleases(deps.target.state, env.name, kept)
  await removeUnreferencedConfigs(deps.target.state, env.name, kept)
  const removable = imagesToRemove(dropped, [...kept, ...others.records])
  const removed: string[] = []
  for (const image of removable) {
    // One at a time: an image a container still uses (someone ran it by hand) must not stop the others.
    const result = await deps.run(imageRemove(deps.target.engine, [image]), { allowFailure: true })
    if (result.exitCode === 0) removed.push(image)
    else deps.reporter.warn(`kept image ${image}: ${result.stderr.trim().split('\n').pop()}`)
  }
  deps.reporter.info(`retention: dropped ${dropped.map((r) => r.tag).join(', ')}${removed.length ? `; removed ${removed.join(', ')}` : ''}`)
  await strategy.pruneBeyondEngine?.(deps, e, dropped, [...kept, ...others.records])
  return removed
}
