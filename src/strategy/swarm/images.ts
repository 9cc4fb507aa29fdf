import { imagePush, imageRepoDigests } from '../../docker/swarm.js'
import { repositoryOf } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import { BerthError } from '../../errors.js'
import { recordsOfOthers } from '../../release/retention.js'

/**
 * SPEC §10: a Swarm release runs its images pinned by digest, `<registry>/<app>-<service>:<tag>@sha256:…`, so
 * every node runs the same bytes and a rollback runs exactly what ran before. Built images are pushed to the
 * environment's registry first; the digest is the one the registry gave the push.
 */

export function isPinned(ref: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(ref)
}

/** The digest of `ref` in its registry, from the engine's image store; undefined when it has none there. */
export async function repoDigest(deps: Pick<Deps, 'run' | 'target'>, ref: string): Promise<string | undefined> {
  const result = await deps.run(imageRepoDigests(deps.target.engine, ref), { allowFailure: true })
  if (result.exitCode !== 0) return undefined
  const repository = repositoryOf(ref)
  const digests = (JSON.parse(result.stdout || '[]') as string[] | null) ?? []
  const match = digests.find((d) => d.startsWith(`${repository}@`))
  return match?.slice(repository.length + 1)
}

/**
 * The digests of `tag`'s images as any environment on the target recorded them after applying it: `repo:tag`
 * → `repo:tag@sha256:…`. deploy --tag runs those, whether or not this engine still has the images (each node
 * pulls them from the registry by digest).
 */
export async function recordedPins(deps: Pick<Deps, 'target'>, tag: string): Promise<Map<string, string>> {
  const { records } = await recordsOfOthers(deps.target.state, undefined)
  const pins = new Map<string, string>()
  for (const record of records) {
    if (record.tag !== tag || record.status === 'failed') continue
    for (const ref of Object.values(record.images)) if (isPinned(ref)) pins.set(ref.split('@')[0] as string, ref)
  }
  return pins
}

/** `repo:tag` → `repo:tag@sha256:…`. */
export function pinned(ref: string, digest: string): string {
  return `${ref.split('@')[0]}@${digest}`
}

/**
 * Pushes the release's built images and pins every image the release runs: by the digest a record of the tag
 * holds (`known`, deploy --tag), else by the one the engine knows (an image berth did not build keeps its
 * reference when the engine has no digest for it). service → image.
 */
export async function pushAndPin(
  deps: Pick<Deps, 'run' | 'target'>,
  images: Record<string, string>,
  built: readonly string[],
  known: ReadonlyMap<string, string>,
  update: (m: string) => void,
): Promise<Record<string, string>> {
  // A tag already recorded pinned (deploy --tag, a re-deploy) is in the registry: nothing to push.
  const toPush = [...new Set(built.filter((ref) => !isPinned(ref) && !known.has(ref)))]
  for (const ref of toPush) {
    update(`pushing ${ref}`)
    await deps.run(imagePush(deps.target.engine, ref))
  }
  const digests = new Map<string, string | undefined>()
  await Promise.all(
    [...new Set(Object.values(images).filter((ref) => !isPinned(ref)))].map(async (ref) => {
      const recorded = known.get(ref)
      digests.set(ref, recorded ? recorded.slice(ref.length + 1) : await repoDigest(deps, ref))
    }),
  )
  const out: Record<string, string> = {}
  for (const [service, ref] of Object.entries(images)) {
    const digest = digests.get(ref)
    if (toPush.includes(ref) && digest === undefined) {
      throw new BerthError(`${ref} was pushed but the engine knows no digest for it in its registry`, 'REGISTRY_DIGEST_MISSING', `Check the registry with: docker image inspect ${ref}`)
    }
    out[service] = isPinned(ref) || digest === undefined ? ref : pinned(ref, digest)
  }
  return out
}
