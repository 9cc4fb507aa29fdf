/** Parsers of docker and compose JSON output into the few fields berth uses. */

/** docker and compose print either one JSON array or one object per line, depending on version. */
export function parseJsonLines(text: string): Record<string, unknown>[] {
  const trimmed = text.trim()
  if (trimmed === '') return []
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as Record<string, unknown>[]
  return trimmed.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** `docker ps` joins labels as k=v,k=v; values may themselves hold commas (compose's config_files). */
export function parseLabels(joined: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!joined) return out
  for (const part of joined.split(/,(?=[A-Za-z0-9._\-/]+=)/)) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1)
  }
  return out
}

export interface Container {
  id: string
  name: string
  image: string
  /** created | running | restarting | paused | exited | dead */
  state: string
  /** '' when the container has no healthcheck; starting | healthy | unhealthy otherwise. */
  health: string
  status: string
  ports: string
  labels: Record<string, string>
  /** Names of the networks it is attached to (absent when the listing did not ask). */
  networks?: string[]
  project?: string
  service?: string
  createdAt: string
}

/** Health is only in the human Status text of `docker ps`: "Up 3 seconds (health: starting)". */
export function healthFromStatus(status: string): string {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status)
  if (!m) return ''
  return m[1] === 'health: starting' ? 'starting' : (m[1] as string)
}

/**
 * The labels that tell which group (compose project, stack namespace) and service a container belongs to.
 * `managed` is set only on containers the orchestrator created for a service (compose's oneoff label): a
 * `docker run` of an image compose built inherits the image's project label, but not that one.
 */
export interface LabelScheme {
  project: string
  service: string
  managed?: { label: string; value: string }
}

export function parsePs(text: string, scheme: LabelScheme): Container[] {
  return parseJsonLines(text).map((row) => {
    // An object when the row came from the Engine API (engineApi.ts), the CLI's joined text otherwise.
    const labels = typeof row.Labels === 'object' && row.Labels !== null ? { ...(row.Labels as Record<string, string>) } : parseLabels(String(row.Labels ?? ''))
    const status = String(row.Status ?? '')
    return {
      id: String(row.ID ?? ''),
      name: String(row.Names ?? ''),
      image: String(row.Image ?? ''),
      state: String(row.State ?? '').toLowerCase(),
      health: healthFromStatus(status),
      status,
      ports: String(row.Ports ?? ''),
      labels,
      ...(row.Networks === undefined ? {} : { networks: String(row.Networks).split(',').map((n) => n.trim()).filter(Boolean) }),
      // Images compose builds carry the project label too, so a `docker run` of one inherits it; only
      // containers compose itself created have the oneoff label, which compose's own listing filters on.
      project: scheme.managed && labels[scheme.managed.label] === undefined ? undefined : labels[scheme.project],
      service: labels[scheme.service],
      createdAt: String(row.CreatedAt ?? ''),
    }
  })
}


/** "Exited (137) 2 seconds ago" → 137. */
export function exitCodeFromStatus(status: string): number | undefined {
  const m = /^Exited \((-?\d+)\)/.exec(status)
  return m ? Number(m[1]) : undefined
}

export interface ContainerState {
  /** created | running | restarting | paused | exited | dead */
  status: string
  exitCode: number
  /** How often its restart policy restarted it. */
  restarts: number
}

/** The output of inspectState; a container removed meanwhile reads as `removed`. */
export function parseContainerState(text: string): ContainerState {
  const row = text.trim() === '' ? {} : (JSON.parse(text.trim()) as Record<string, unknown>)
  return { status: typeof row.status === 'string' ? row.status : 'removed', exitCode: Number(row.exitCode ?? 0), restarts: Number(row.restarts ?? 0) }
}

export interface ImageRow {
  repository: string
  tag: string
}

export function parseImages(text: string): ImageRow[] {
  return parseJsonLines(text).map((row) => ({ repository: String(row.Repository ?? ''), tag: String(row.Tag ?? '') }))
}

/** `postgres` and `docker.io/library/postgres:latest` name the same image. */
export function normalizeImageRef(ref: string): string {
  let r = ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '').replace(/^library\//, '')
  if (!r.includes('@')) {
    const lastSlash = r.lastIndexOf('/')
    if (!r.slice(lastSlash + 1).includes(':')) r = `${r}:latest`
  }
  return r
}

export interface ComposeVersion {
  version: string
  major: number
}

export function parseComposeVersion(text: string): ComposeVersion {
  let version = ''
  try {
    version = String((JSON.parse(text) as { version?: string }).version ?? '')
  } catch {
    version = /v?(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? ''
  }
  version = version.replace(/^v/, '')
  return { version, major: Number(version.split('.')[0] ?? 0) }
}


export interface RestartPolicyRow {
  id: string
  name: string
  /** '' and 'no' both mean none. */
  restart: string
}

/** Output of `inspectRestartPolicies`. */
export function parseRestartPolicies(text: string): RestartPolicyRow[] {
  return parseJsonLines(text).map((row) => ({ id: String(row.id ?? ''), name: String(row.name ?? '').replace(/^\//, ''), restart: String(row.restart ?? '') }))
}
