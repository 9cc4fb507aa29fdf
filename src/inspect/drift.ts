import { type Container, normalizeImageRef } from '../docker/parse.js'
import { repositoryOf } from '../release/model.js'
import type { ReleaseRecord } from '../state/releases.js'
import { COMPOSE_LABEL, LABEL } from '../names.js'

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
    .sort((a, b) => (a.service ?? '').localeCompare(b.service ?? '') || a.name.localeCompare(b.name))
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

/** name: named like the app's containers · image: from an `<app>-<service>` image · label: from an image berth built for the app · project: of a compose project that is no environment of deploy.yml. */
export type UnmanagedReason = 'name' | 'image' | 'label' | 'project'

export interface UnmanagedContainer {
  name: string
  id: string
  image: string
  state: string
  status: string
  reasons: UnmanagedReason[]
  /** The compose project it belongs to, when it belongs to one that is not an environment. */
  project?: string
  /** The environment it most likely stood in for, when its labels or name say so. */
  environment?: string
  /** What brings it back under berth. */
  command: string
}

/**
 * SPEC §7, seed 000: containers that look like the app's — by name, image or the labels its images carry —
 * but belong to none of its environments' compose projects: started with `docker run`, or by compose under
 * another project name. They have no release record, and usually no restart policy (seed 001).
 */
export function findUnmanaged(app: string, envNames: readonly string[], containers: readonly Container[]): UnmanagedContainer[] {
  // Colour projects of blue-green environments are the environment's too.
  const projects = new Set(envNames.flatMap((e) => [`${app}-${e}`, `${app}-${e}-blue`, `${app}-${e}-green`]))
  const prefixed = (s: string) => s.startsWith(`${app}-`) || s.startsWith(`${app}_`)
  const out: UnmanagedContainer[] = []
  for (const c of containers) {
    const project = c.project
    if (project && projects.has(project)) continue
    const otherApp = c.labels[LABEL.app] !== undefined && c.labels[LABEL.app] !== app
    if (otherApp) continue
    const reasons: UnmanagedReason[] = []
    if (prefixed(c.name)) reasons.push('name')
    const repository = repositoryOf(c.image).split('/').pop() ?? ''
    if (repository.startsWith(`${app}-`)) reasons.push('image')
    if (c.labels[LABEL.app] === app) reasons.push('label')
    if (project) {
      // Another compose project is only the app's when berth built it (a removed environment) or it bears
      // the app's name (`docker compose up` by hand in the app's directory): a sibling stack named
      // shop-monitoring is not ours to report.
      if (c.labels[LABEL.app] !== app && project !== app) continue
      reasons.push('project')
    }
    if (reasons.length === 0) continue
    const environment = guessEnvironment(app, envNames, c)
    out.push({
      name: c.name,
      id: c.id,
      image: c.image,
      state: c.state,
      status: c.status,
      reasons,
      ...(project ? { project } : {}),
      ...(environment ? { environment } : {}),
      command: bringBackCommand(c, environment),
    })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/** From the berth.env label, else from a name like `<app>-<env>-web-1` or `<app>_<env>_web_1` (the longest env name that fits). */
export function guessEnvironment(app: string, envNames: readonly string[], c: Pick<Container, 'name' | 'labels' | 'project'>): string | undefined {
  const labelled = c.labels[LABEL.env]
  // The label is authoritative: an environment deploy.yml no longer has is not guessed from the name.
  if (labelled) return envNames.includes(labelled) ? labelled : undefined
  for (const candidate of [c.project, c.name]) {
    if (!candidate) continue
    const rest = candidate.replace(new RegExp(`^${escapeRegExp(app)}[-_]`), '')
    if (rest === candidate) continue
    const found = [...envNames].sort((a, b) => b.length - a.length).find((e) => rest === e || rest.startsWith(`${e}-`) || rest.startsWith(`${e}_`))
    if (found) return found
  }
  return undefined
}

function bringBackCommand(c: Container, environment: string | undefined): string {
  const project = c.project
  const remove = project ? `docker compose -p ${project} down` : `docker rm -f ${c.name}`
  // A removed environment (berth.env names one deploy.yml no longer has) has nothing to deploy again.
  if (!environment && c.labels[LABEL.env] && project) return remove
  return `${remove} && berth deploy ${environment ?? 'ENV'}`
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
