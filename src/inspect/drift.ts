import { type Container, normalizeImageRef } from '../docker/parse.js'
import type { ReleaseRecord } from '../state/releases.js'
import { COMPOSE_LABEL, LABEL } from '../names.js'
import { byCodePoint } from '../order.js'

/** "2.26.1-4" (a distribution's build) and "v2.26.1" are compose 2.26.1, as its container labels say. */
function composeRelease(version: string): string {
  return /^v?(\d+\.\d+\.\d+)/.exec(version)?.[1] ?? version
}

/**
 * missing: a service of the active release has no container · image: the container runs another image ·
 * config: its compose config hash is not the one recorded when the release became healthy · release: it was started by
 * another berth release · unlabelled: created in the project without berth (`docker compose up` by hand) ·
 * unknown-service: a service the active release does not have · no-release: containers but no active release.
 */
export type DriftKind = 'missing' | 'image' | 'config' | 'release' | 'unlabelled' | 'unknown-service' | 'no-release'

export interface DriftItem {
  kind: DriftKind
  service: string
  container?: string
  expected?: string
  actual?: string
  message: string
}

export interface EnvironmentDrift {
  drift: DriftItem[]
  /** Why part of the comparison was not made (the recorded config is gone, compose refused it). */
  driftNote?: string
}

export interface DriftInput {
  active: ReleaseRecord | undefined
  /** service → config hash recorded when the active release became healthy; undefined: not compared. */
  hashes: Record<string, string> | undefined
  /** The containers compose created in the environment's project (see composeProject). */
  containers: readonly Container[]
  /** The Compose version running now: a hash written by another version may differ without any change. */
  composeVersion?: string
}

/** SPEC §7 drift of one environment: what runs, compared with what its active release record says should. */
export function classifyDrift({ active, hashes, containers, composeVersion }: DriftInput): DriftItem[] {
  // `compose run` containers are one-off by design, never part of a release.
  const own = [...containers]
    .filter((c) => c.labels[COMPOSE_LABEL.oneoff] !== 'True')
    .sort((a, b) => byCodePoint(a.service ?? '', b.service ?? '') || byCodePoint(a.name, b.name))
  if (!active) {
    return own.map((c) => ({
      kind: 'no-release' as const,
      service: c.service ?? '',
      container: c.name,
      message: 'no active release records it (started outside berth, or the release records were removed)',
    }))
  }
  const tag = active.tag
  const services = new Set([...Object.keys(active.images), ...Object.keys(hashes ?? {})])
  const items: DriftItem[] = []
  for (const service of [...services].sort()) {
    if (!own.some((c) => c.service === service)) {
      items.push({ kind: 'missing', service, ...(active.images[service] ? { expected: active.images[service] } : {}), message: `no container, though release ${tag} runs ${service}` })
    }
  }
  for (const c of own) {
    const service = c.service ?? ''
    const at = { service, container: c.name }
    if (!services.has(service)) {
      items.push({ ...at, kind: 'unknown-service', message: `${service} is not a service of release ${tag}` })
      continue
    }
    // berth.env is set on containers only (images carry berth.app and berth.release too, and pass them on).
    const release = c.labels[LABEL.release]
    if (c.labels[LABEL.env] === undefined) {
      items.push({ ...at, kind: 'unlabelled', expected: tag, message: 'created outside berth (no berth.env label), e.g. by docker compose up by hand' })
    } else if (release !== (active.serviceReleases?.[service] ?? tag)) {
      const expected = active.serviceReleases?.[service] ?? tag
      items.push({ ...at, kind: 'release', expected, actual: release, message: expected === tag ? `started by release ${release}, but ${tag} is active` : `started by release ${release}, but release ${tag} runs it as left by ${expected}` })
    }
    const image = active.images[service]
    if (image && normalizeImageRef(c.image) !== normalizeImageRef(image)) {
      items.push({ ...at, kind: 'image', expected: image, actual: c.image, message: `runs ${c.image}, release ${tag} has ${image}` })
    }
    const want = hashes?.[service]
    const have = c.labels[COMPOSE_LABEL.configHash] ?? ''
    if (want && have !== want) {
      const createdBy = c.labels[COMPOSE_LABEL.version]
      const upgraded = composeVersion && createdBy && composeRelease(createdBy) !== composeRelease(composeVersion) ? ` (or Compose changed since, ${createdBy} → ${composeVersion}, which can change the hash alone)` : ''
      items.push({ ...at, kind: 'config', expected: want, actual: have, message: `config differs from release ${tag}: recreated with other settings or env values${upgraded}` })
    }
  }
  return items
}

/**
 * The config hashes the active release's containers had when it became healthy, recorded by berth: a
 * container recreated by hand with any other setting or env value carries a different
 * `com.docker.compose.config-hash`. Nothing to ask the engine, so drift costs no call per environment.
 */
export function expectedHashes(active: ReleaseRecord): { hashes?: Record<string, string>; note?: string } {
  if (active.configHashes && Object.keys(active.configHashes).length > 0) return { hashes: active.configHashes }
  return { note: `config not compared: release ${active.tag} has no recorded config hashes` }
}

export function environmentDrift(active: ReleaseRecord | undefined, containers: readonly Container[], composeVersion: string): EnvironmentDrift {
  const { hashes, note } = active ? expectedHashes(active) : { hashes: undefined, note: undefined }
  return { drift: classifyDrift({ active, hashes, containers, composeVersion }), ...(note ? { driftNote: note } : {}) }
}
