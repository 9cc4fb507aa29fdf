import type { Config, EnvironmentConfig } from '../config/types.js'
import { imageRemove } from '../docker/docker.js'
import type { Deps } from './context.js'
import { environmentsWithState, imagesToRemove, planRetention, readReleases, type ReleaseRecord, removeUnreferencedConfigs, writeReleases } from './releaseStore.js'

/** Every tag recorded by any environment: a new tag must not reuse one (images are shared). */
export async function allReleaseTags(stateDir: string): Promise<string[]> {
  const envs = await environmentsWithState(stateDir)
  const lists = await Promise.all(envs.map((env) => readReleases(stateDir, env)))
  return lists.flat().map((r) => r.tag)
}

/**
 * SPEC §3 retention after a successful deploy: drop this environment's releases beyond `keep` (never the
 * active or previous one) and remove their images, unless a kept release of any environment still uses them.
 */
export async function pruneReleases(deps: Deps, config: Config, env: EnvironmentConfig): Promise<string[]> {
  const releases = await readReleases(config.stateDir, env.name)
  const { kept, dropped } = planRetention(releases, env.keep)
  if (dropped.length > 0) await writeReleases(config.stateDir, env.name, kept)
  // Also sweeps configs no record names any more (a run killed before recording, a re-applied tag).
  await removeUnreferencedConfigs(config.stateDir, env.name, kept)
  if (dropped.length === 0) return []

  const others = (await environmentsWithState(config.stateDir)).filter((name) => name !== env.name)
  const keptEverywhere: ReleaseRecord[] = [...kept, ...(await Promise.all(others.map((name) => readReleases(config.stateDir, name)))).flat()]
  const removable = imagesToRemove(dropped, keptEverywhere)
  const removed: string[] = []
  for (const image of removable) {
    // One at a time: an image a container still uses (someone ran it by hand) must not stop the others.
    const result = await deps.run(imageRemove([image]), { allowFailure: true })
    if (result.exitCode === 0) removed.push(image)
    else deps.reporter.warn(`kept image ${image}: ${result.stderr.trim().split('\n').pop()}`)
  }
  if (dropped.length > 0) deps.reporter.info(`retention: dropped ${dropped.map((r) => r.tag).join(', ')}${removed.length ? `; removed ${removed.join(', ')}` : ''}`)
  return removed
}
