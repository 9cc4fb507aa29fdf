import { byCodePoint } from '../order.js'
import type { Engine } from './engine.js'

/**
 * SPEC §1: the engine reads (containers, inspect, version, events) may go straight to the Engine API over its
 * socket. The argv builders of docker.ts attach to the argv they return how to ask the API the same thing
 * (`apiRead` / `apiStream`) and how to print the answer as the CLI would; the runner sends the request when
 * the engine is a unix socket and runs the argv otherwise. Callers and their parsers cannot tell the two
 * apart, and a fake runner in a test simply sees the argv. Everything here is pure.
 */

/** One GET of a read; `missing` says what the CLI prints on stderr when the engine answers 404. */
export interface ApiGet {
  path: string
  missing?: string
  /** The answer is this header of the response (lowercase), not its body: /_ping's `server` names the engine's version. */
  header?: string
  /**
   * Fields of the JSON answer that last as long as the engine's socket (docker/identity.ts): once read, they are
   * the answer (the other fields are not kept) until the socket changes, and no request is sent.
   */
  keep?: readonly string[]
}

export interface ApiRead {
  engine: Engine
  gets: ApiGet[]
  /** The CLI's stdout from the bodies of the GETs that answered (undefined for a 404). */
  render(bodies: readonly unknown[]): string
}

export interface ApiStream {
  engine: Engine
  path: string
}

const reads = new WeakMap<readonly string[], ApiRead>()
const streams = new WeakMap<readonly string[], ApiStream>()

export function withApiRead(argv: string[], read: ApiRead): string[] {
  reads.set(argv, read)
  return argv
}

export function withApiStream(argv: string[], stream: ApiStream): string[] {
  streams.set(argv, stream)
  return argv
}

/** How the API answers this argv, when it is a read one of docker.ts's builders made (a copy of it is not). */
export function apiReadOf(argv: readonly string[]): ApiRead | undefined {
  return reads.get(argv)
}

export function apiStreamOf(argv: readonly string[]): ApiStream | undefined {
  return streams.get(argv)
}

/** `?filters=` as the CLI sends them: every `--filter key=value`, grouped by key (one key's values are or-ed). */
export function filtersQuery(filters: readonly (readonly [string, string])[]): string {
  if (filters.length === 0) return ''
  const grouped: Record<string, Record<string, boolean>> = {}
  for (const [key, value] of filters) (grouped[key] ??= {})[value] = true
  return `filters=${encodeURIComponent(JSON.stringify(grouped))}`
}

export function containerListPath(filters: readonly (readonly [string, string])[]): string {
  const query = filtersQuery(filters)
  return `/containers/json?all=1${query ? `&${query}` : ''}`
}

export function containerInspectGets(ids: readonly string[]): ApiGet[] {
  return ids.map((id) => ({ path: `/containers/${encodeURIComponent(id)}/json`, missing: `Error response from daemon: No such container: ${id}` }))
}

interface ApiPort {
  IP?: string
  PrivatePort: number
  PublicPort?: number
  Type: string
}

interface ApiContainer {
  Id: string
  Names?: string[] | null
  Image?: string
  State?: string
  Status?: string
  Ports?: ApiPort[] | null
  Labels?: Record<string, string> | null
  Created?: number
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null
}

/**
 * One row of `docker ps --no-trunc --format` as parsePs reads it. Labels stay an object (the CLI joins them
 * with commas, which a value may hold too); the rest is printed as the CLI prints it.
 */
export function psRow(c: ApiContainer): Record<string, unknown> {
  return {
    ID: c.Id,
    Names: (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
    Image: c.Image || '<no image>',
    State: c.State ?? '',
    Status: c.Status ?? '',
    Ports: displayablePorts(c.Ports ?? []),
    Labels: c.Labels ?? {},
    CreatedAt: goTimeString(c.Created ?? 0),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
  }
}

export function renderPs(bodies: readonly unknown[]): string {
  return ((bodies[0] ?? []) as ApiContainer[]).map((c) => JSON.stringify(psRow(c))).join('\n')
}

function joinHostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** docker/cli's DisplayablePorts: "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 9000-9001/tcp". */
export function displayablePorts(ports: readonly ApiPort[]): string {
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      byCodePoint(a.IP ?? '', b.IP ?? '') ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      byCodePoint(a.Type, b.Type),
  )
  const groups = new Map<string, { first: number; last: number }>()
  const result: string[] = []
  const hostMappings: string[] = []
  for (const port of sorted) {
    const current = port.PrivatePort
    let key = port.Type
    if (port.IP) {
      if (port.PublicPort !== current) {
        hostMappings.push(`${joinHostPort(port.IP, port.PublicPort ?? 0)}->${port.PrivatePort}/${port.Type}`)
        continue
      }
      key = `${port.IP}/${port.Type}`
    }
    const group = groups.get(key)
    if (!group) {
      groups.set(key, { first: current, last: current })
      continue
    }
    if (current === group.last + 1) {
      group.last = current
      continue
    }
    result.push(formGroup(key, group.first, group.last))
    // A new group under the same key keeps the key's first place in the final order, as the CLI's map does.
    groups.set(key, { first: current, last: current })
  }
  for (const [key, group] of groups) result.push(formGroup(key, group.first, group.last))
  return [...result, ...hostMappings].join(', ')
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/')
  const ip = slash >= 0 ? key.slice(0, slash) : ''
  const type = slash >= 0 ? key.slice(slash + 1) : key
  const range = first === last ? String(first) : `${first}-${last}`
  return `${ip ? `${joinHostPort(ip, range)}->${range}` : range}/${type}`
}

/** Go's time.Unix(s, 0).String() in this process's zone: "2026-12-03 14:20:30 +0000 UTC". */
export function goTimeString(seconds: number): string {
  const d = new Date(seconds * 1000)
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0')
  const offset = -d.getTimezoneOffset()
  const zone = offset === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}${pad(offset % 60)} ${zone}`
}

interface ApiInspect {
  Id: string
  Name: string
  RestartCount?: number
  State?: { Status?: string; ExitCode?: number }
  HostConfig?: { RestartPolicy?: { Name?: string } | null }
  NetworkSettings?: { Networks?: unknown }
  Mounts?: unknown
}

/** Each found container's fields, one JSON object per line, as the inspect templates of docker.ts print them. */
export function renderInspect(pick: (c: ApiInspect) => unknown): (bodies: readonly unknown[]) => string {
  return (bodies) =>
    (bodies.filter((b) => b !== undefined) as ApiInspect[]).map((c) => JSON.stringify(pick(c) ?? null)).join('\n')
}

export const inspectFields = {
  state: (c: ApiInspect) => ({ status: c.State?.Status ?? '', exitCode: c.State?.ExitCode ?? 0, restarts: c.RestartCount ?? 0 }),
  restartPolicy: (c: ApiInspect) => ({ id: c.Id, name: c.Name, restart: c.HostConfig?.RestartPolicy?.Name ?? '' }),
  networkEndpoints: (c: ApiInspect) => ({ id: c.Id, name: c.Name, networks: c.NetworkSettings?.Networks ?? null }),
  mounts: (c: ApiInspect) => c.Mounts ?? [],
}

/**
 * `docker version --format '{{json .}}'` as checkEngine reads it: the server's version (the client's is this
 * process), from the `Server: Docker/27.3.1 (linux)` header of /_ping (dockerd answers /version by asking
 * containerd, runc and docker-init theirs, about 8 ms; /_ping is under 1 ms), and the engine's ID from /info,
 * which the CLI's answer lacks: the key of the Compose version cache (target/composeCache.ts), so that cache is
 * used only where the engine is read over its socket. The ID is kept per socket (docker/identity.ts).
 */
export const ENGINE_ID_GET: ApiGet = { path: '/info', keep: ['ID'] }
export const VERSION_GETS: readonly ApiGet[] = [{ path: '/_ping', header: 'server' }, ENGINE_ID_GET]

export function renderVersion(bodies: readonly unknown[]): string {
  const server = typeof bodies[0] === 'string' ? bodies[0] : ''
  const version = /^Docker\/(\S+)/.exec(server)?.[1] ?? server
  const id = (bodies[1] as { ID?: unknown } | undefined)?.ID
  return JSON.stringify({ Server: { Version: version }, ...(typeof id === 'string' && id ? { ServerID: id } : {}) })
}

/** The engine's ID as `docker info --format '{{json .ID}}'` prints it: a JSON string. */
export function renderEngineId(bodies: readonly unknown[]): string {
  const id = (bodies[0] as { ID?: unknown } | undefined)?.ID
  return JSON.stringify(typeof id === 'string' ? id : '')
}

/** The events of containers carrying every label, the actions that change a container's state or health. */
export function eventsPath(labels: readonly string[], actions: readonly string[]): string {
  return `/events?${filtersQuery([['type', 'container'], ...labels.map((l) => ['label', l] as const), ...actions.map((a) => ['event', a] as const)])}`
}
