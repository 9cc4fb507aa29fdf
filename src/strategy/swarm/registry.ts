import { requestFailure } from '../../health/probe.js'
import type { Deps } from '../../run/context.js'
import type { ReleaseRecord } from '../../state/releases.js'
import { isPinned } from './images.js'

/**
 * SPEC §10 retention in the registry: the tags of dropped releases are deleted where the registry allows it
 * (`DELETE /v2/<repository>/manifests/<digest>`, which also removes every tag of that digest), never a digest
 * that a kept release of any environment runs. Requests go from the engine's host, as the engine pushes from
 * there. A registry that asks for credentials or does not allow deletes keeps its tags, said once.
 */

export interface RegistryPrune {
  /** `repository@digest` deleted. */
  deleted: string[]
  /** Why tags were kept, when some were. */
  kept?: string
}

/** The accepted manifest types, so the registry answers with the digest docker pushed. */
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

const inRegistry = (registry: string, ref: string) => ref.startsWith(`${registry}/`)

/** `registry/repo:tag[@digest]` → `repo` (without the registry's path prefix). */
function repositoryIn(registry: string, ref: string): string {
  return ref.slice(registry.length + 1).split('@')[0]?.replace(/:[^:/]+$/, '') as string
}

/** The registry images of releases that are not pinned (a failed release is recorded before its push pins it). */
export function unpinnedRefs(registry: string, records: readonly ReleaseRecord[]): string[] {
  return [...new Set(records.flatMap((r) => Object.values(r.images)).filter((ref) => inRegistry(registry, ref) && !isPinned(ref)))].sort()
}

/**
 * The images of `dropped` in `registry` whose digests no `kept` record runs: `repository@digest`. A pinned
 * reference carries its digest; `resolved` has the digests the registry gave for the unpinned ones (none when
 * it has no such tag).
 */
export function deletableDigests(registry: string, dropped: readonly ReleaseRecord[], kept: readonly ReleaseRecord[], resolved: ReadonlyMap<string, string> = new Map()): string[] {
  const digestOf = (ref: string) => (isPinned(ref) ? ref.slice(ref.lastIndexOf('@') + 1) : resolved.get(ref))
  const imagesOf = (records: readonly ReleaseRecord[]) => records.flatMap((r) => Object.values(r.images)).filter((ref) => inRegistry(registry, ref))
  const used = new Set(imagesOf(kept).map(digestOf))
  const out = new Set<string>()
  for (const ref of imagesOf(dropped)) {
    const digest = digestOf(ref)
    if (digest === undefined || used.has(digest)) continue
    out.add(`${repositoryIn(registry, ref)}@${digest}`)
  }
  return [...out].sort()
}

/**
 * The registry's API base as the engine's host reaches it (through its connection): any HTTP answer to
 * `/v2/`, 401 included, is a registry that is there. HTTPS first, as docker does, then plain HTTP (an insecure
 * registry). Else why neither answered.
 */
export async function registryBase(deps: Pick<Deps, 'target'>, registry: string): Promise<{ base: string } | { why: string }> {
  const host = registry.split('/')[0] as string
  let why = ''
  for (const scheme of ['https', 'http']) {
    try {
      await deps.target.request({ method: 'GET', url: `${scheme}://${host}/v2/` })
      return { base: `${scheme}://${host}` }
    } catch (error) {
      why = requestFailure(error)
    }
  }
  return { why }
}

export async function pruneRegistry(deps: Pick<Deps, 'target'>, registry: string, dropped: readonly ReleaseRecord[], kept: readonly ReleaseRecord[]): Promise<RegistryPrune> {
  if (!dropped.some((r) => Object.values(r.images).some((ref) => inRegistry(registry, ref)))) return { deleted: [] }
  const host = registry.split('/')[0] as string
  const found = await registryBase(deps, registry)
  if ('why' in found) return { deleted: [], kept: `registry ${host} does not answer from ${deps.target.description}: ${found.why}` }
  const { base } = found
  const prefix = registry.slice(host.length + 1)
  const url = (repository: string, reference: string) => `${base}/v2/${prefix ? `${prefix}/` : ''}${repository}/manifests/${reference}`
  // Unpinned tags of dropped or kept releases: what the registry holds under them now.
  const resolved = new Map<string, string>()
  const unknown: string[] = []
  await Promise.all(
    unpinnedRefs(registry, [...dropped, ...kept]).map(async (ref) => {
      const tag = (ref.split('@')[0] as string).split(':').pop() as string
      const res = await deps.target.request({ method: 'HEAD', url: url(repositoryIn(registry, ref), tag), headers: { accept: MANIFEST_TYPES } }).catch(() => undefined)
      const digest = res?.headers['docker-content-digest']
      if (res?.status === 200 && typeof digest === 'string') resolved.set(ref, digest)
      else if (res?.status !== 404) unknown.push(ref)
    }),
  )
  // A kept tag whose digest is unknown might share one with a dropped image: nothing is deleted then.
  if (unknown.some((ref) => kept.some((r) => Object.values(r.images).includes(ref)))) {
    return { deleted: [], kept: `registry ${host} did not say which digests ${unknown.join(', ')} have` }
  }
  const digests = deletableDigests(registry, dropped, kept, resolved)
  const deleted: string[] = []
  for (const entry of digests) {
    const [repository, digest] = entry.split('@') as [string, string]
    const res = await deps.target.request({ method: 'DELETE', url: url(repository, digest) }).catch((e: unknown) => e as Error)
    if (res instanceof Error) return { deleted, kept: `registry ${host} stopped answering (${res.message})` }
    if (res.status === 202 || res.status === 200) deleted.push(entry)
    else if (res.status === 404) continue
    else if (res.status === 405) return { deleted, kept: `registry ${host} does not allow deletes (storage.delete.enabled is off)` }
    else if (res.status === 401 || res.status === 403) return { deleted, kept: `registry ${host} asks for credentials to delete (HTTP ${res.status}); berth deletes from registries that let the engine's host do so` }
    else return { deleted, kept: `registry ${host} answered HTTP ${res.status} to a delete` }
  }
  return { deleted }
}
