import { imagePush, imageRepoDigests } from '../../docker/swarm.js'
import { repositoryOf } from '../../release/model.js'
import type { Deps } from '../../run/context.js'
import { BerthError } from '../../errors.js'

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

/** `repo:tag` → `repo:tag@sha256:…`. */
export function pinned(ref: string, digest: string): string {
  return `${ref.split('@')[0]}@${digest}`
}

/**
 * Pushes the release's built images and pins every image the release runs that the engine knows a digest of
 * (an image berth did not build keeps its reference when the engine has no digest for it). service → image.
 */
export async function pushAndPin(
  deps: Pick<Deps, 'run' | 'target'>,
  images: Record<string, string>,
  built: readonly string[],
  update: (m: string) => void,
): Promise<Record<string, string>> {
  const toPush = [...new Set(built.filter((ref) => !isPinned(ref)))]
  for (const ref of toPush) {
    update(`pushing ${ref}`)
    await deps.run(imagePush(deps.target.engine, ref))
  }
  const digests = new Map<string, string | undefined>()
  await Promise.all(
    [...new Set(Object.values(images).filter((ref) => !isPinned(ref)))].map(async (ref) => digests.set(ref, await repoDigest(deps, ref))),
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
