import { LABEL } from '../../names.js'

/**
 * A release's stack file (SPEC §10): compose's resolved config of the release, turned into what
 * `docker stack deploy` takes and runs the same way. docker's stack loader reads the version 3 format, so keys
 * of the compose specification it would refuse are left out (listed in `ignored`), and what Swarm does not do
 * from compose keys berth says itself: restart policies, one-off services as jobs, ports, the update order.
 * Pure: the caller reads and writes the files.
 */

export interface StackOptions {
  app: string
  env: string
  tag: string
  /** service → the image to run, pinned by digest where berth knows it. */
  images: Record<string, string>
  /** Services that run once and must complete (compose's service_completed_successfully): replicated-job. */
  oneOff: ReadonlySet<string>
  /**
   * Whether the swarm's routing mesh (IPVS) is missing on the engine's host: then published ports are
   * `mode: host` and services resolve by DNS round robin (`endpoint_mode: dnsrr`), as a VIP needs IPVS.
   */
  noMesh: boolean
}

export interface StackFile {
  /** The stack file, as an object (stringified as YAML by the caller). */
  stack: { version: string; services: Record<string, Record<string, unknown>>; [key: string]: unknown }
  /** `service.key` (or a top-level key) left out because Swarm does not run it: the deploy warns of them. */
  ignored: string[]
}

/** Keys of a service that docker's stack loader takes and Swarm runs as compose does. */
const SERVICE_KEYS = new Set([
  'cap_add', 'cap_drop', 'command', 'configs', 'dns', 'dns_search', 'entrypoint', 'environment', 'expose', 'extra_hosts',
  'healthcheck', 'hostname', 'init', 'labels', 'logging', 'networks', 'ports', 'read_only', 'secrets', 'stop_grace_period',
  'stop_signal', 'sysctls', 'tmpfs', 'tty', 'stdin_open', 'ulimits', 'user', 'volumes', 'working_dir', 'deploy', 'image',
])
/** Keys berth translates (restart), removes as resolved (build: the image is built) or handles (depends_on). */
const HANDLED_KEYS = new Set(['restart', 'build', 'depends_on', 'image', 'pull_policy'])
const TOP_KEYS = new Set(['networks', 'volumes', 'configs', 'secrets'])

export const STACK_FILE_VERSION = '3.9'

export function stackFile(model: ComposeConfig, o: StackOptions): StackFile {
  const ignored: string[] = []
  const services: Record<string, Record<string, unknown>> = {}
  for (const [name, svc] of Object.entries(model.services ?? {})) {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(svc)) {
      if (SERVICE_KEYS.has(key)) out[key] = value
      else if (!HANDLED_KEYS.has(key)) ignored.push(`${name}.${key}`)
    }
    const image = o.images[name] ?? svc.image
    if (image !== undefined) out.image = image
    out.labels = { ...asRecord(svc.labels), ...releaseLabels(o, name) }
    if (svc.ports !== undefined) out.ports = svc.ports.map((p) => portEntry(p, o.noMesh))
    if (svc.volumes !== undefined) out.volumes = svc.volumes.map(volumeEntry)
    out.deploy = deployEntry(name, svc, o)
    services[name] = out
  }
  const stack: StackFile['stack'] = { version: STACK_FILE_VERSION, services }
  for (const [key, value] of Object.entries(model)) {
    if (TOP_KEYS.has(key)) stack[key] = topLevel(value as Record<string, Record<string, unknown> | null>)
    else if (key !== 'services' && key !== 'name') ignored.push(key)
  }
  return { stack, ignored }
}

/** What berth reads of compose's resolved config (`docker compose config`). */
export interface ComposeConfig {
  name?: string
  services?: Record<string, ComposeService>
  [key: string]: unknown
}

export interface ComposeService {
  image?: string
  restart?: string
  labels?: Record<string, string> | string[]
  ports?: { target: number; published?: string | number; protocol?: string; host_ip?: string; mode?: string }[]
  volumes?: Record<string, unknown>[]
  deploy?: Record<string, unknown>
  [key: string]: unknown
}

function releaseLabels(o: StackOptions, service: string): Record<string, string> {
  return { [LABEL.app]: o.app, [LABEL.env]: o.env, [LABEL.release]: o.tag, [LABEL.service]: service }
}

function asRecord(labels: ComposeService['labels']): Record<string, string> {
  if (labels === undefined) return {}
  if (!Array.isArray(labels)) return labels
  return Object.fromEntries(labels.map((l) => [l.split('=')[0] as string, l.split('=').slice(1).join('=')]))
}

/** Long syntax, as the v3 loader takes it: published as a number, `mode: host` without the routing mesh. */
function portEntry(p: NonNullable<ComposeService['ports']>[number], noMesh: boolean): Record<string, unknown> {
  return {
    target: p.target,
    ...(p.published === undefined || p.published === '' ? {} : { published: Number(p.published) }),
    protocol: p.protocol ?? 'tcp',
    mode: noMesh ? 'host' : (p.mode ?? 'ingress'),
  }
}

/** compose's `bind.create_host_path` and `volume: {}` are not in the v3 format; Swarm creates neither. */
function volumeEntry(v: Record<string, unknown>): Record<string, unknown> {
  const { bind, volume, ...rest } = v
  const bindRest = bind && typeof bind === 'object' ? Object.fromEntries(Object.entries(bind).filter(([k]) => k !== 'create_host_path')) : undefined
  const volumeRest = volume && typeof volume === 'object' && Object.keys(volume).length > 0 ? volume : undefined
  return { ...rest, ...(bindRest && Object.keys(bindRest).length > 0 ? { bind: bindRest } : {}), ...(volumeRest ? { volume: volumeRest } : {}) }
}

/**
 * berth's defaults under the operator's own `deploy:` keys: one-off services as jobs that are not restarted,
 * compose's restart policy as Swarm's, and updates that start the new task first unless a host-mode port
 * would then be claimed twice on one node. A failed update is rolled back by Swarm (which berth then reads as
 * a failed deploy); berth itself then re-deploys the previous release's stack file.
 */
function deployEntry(name: string, svc: ComposeService, o: StackOptions): Record<string, unknown> {
  const given = svc.deploy ?? {}
  const labels = { ...asRecord(given.labels as ComposeService['labels']), ...releaseLabels(o, name) }
  if (o.oneOff.has(name)) {
    return { ...given, mode: 'replicated-job', labels, restart_policy: { condition: 'none', ...asObject(given.restart_policy) } }
  }
  const hostPorts = o.noMesh && (svc.ports ?? []).some((p) => p.published !== undefined && p.published !== '')
  const order = hostPorts ? 'stop-first' : 'start-first'
  return {
    ...given,
    labels,
    ...(o.noMesh ? { endpoint_mode: 'dnsrr' } : {}),
    restart_policy: { condition: restartCondition(svc.restart), ...asObject(given.restart_policy) },
    update_config: { order, failure_action: 'rollback', monitor: '5s', ...asObject(given.update_config) },
    rollback_config: { order, ...asObject(given.rollback_config) },
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

/** compose's restart policy as Swarm's restart condition (Swarm restarts on any exit by default). */
export function restartCondition(restart: string | undefined): 'any' | 'on-failure' | 'none' {
  if (restart === 'no') return 'none'
  if (restart?.startsWith('on-failure')) return 'on-failure'
  return 'any'
}

/** Top-level networks and volumes: the stack names its own <stack>_<key>; an external one keeps its name. */
function topLevel(entries: Record<string, Record<string, unknown> | null>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [key, value] of Object.entries(entries ?? {})) {
    const { name, external, ...rest } = value ?? {}
    out[key] = external ? { external: true, ...(name === undefined ? {} : { name }) } : rest
  }
  return out
}

/** service → the services it waits on and how (service_healthy, service_completed_successfully), from depends_on. */
export type Waits = Record<string, Record<string, string>>

/** What each service waits on before it starts (service_started only orders starts, which Swarm's restarts make moot). */
export function waitsOf(model: ComposeConfig): Waits {
  const services = model.services ?? {}
  const out: Waits = {}
  for (const [name, svc] of Object.entries(services)) {
    const deps = Object.entries((svc.depends_on ?? {}) as Record<string, { condition?: string } | null>).filter(
      ([dep, spec]) => dep in services && (spec?.condition === 'service_healthy' || spec?.condition === 'service_completed_successfully'),
    )
    if (deps.length > 0) out[name] = Object.fromEntries(deps.map(([dep, spec]) => [dep, spec?.condition as string]))
  }
  return out
}

/**
 * Swarm starts every service of a stack at once and ignores depends_on; berth keeps compose's order itself by
 * deploying the stack in waves (SPEC §10): a service comes in a later wave than what it waits on. A dependency
 * that already runs in the stack (`existing`) is already healthy, so it holds nothing back, except a one-off
 * job (`jobs`), which must complete again before what waits on it is updated: migrations before the new code.
 * Each wave's services, in order.
 */
export function waves(services: readonly string[], waits: Waits, o: { existing?: ReadonlySet<string>; jobs?: ReadonlySet<string> } = {}): string[][] {
  const level = new Map<string, number>()
  const holds = (dep: string) => !o.existing?.has(dep) || Boolean(o.jobs?.has(dep))
  const levelOf = (name: string, seen: readonly string[]): number => {
    const known = level.get(name)
    if (known !== undefined) return known
    if (seen.includes(name)) throw new Error(`depends_on cycle: ${[...seen, name].join(' → ')}`)
    const deps = Object.keys(waits[name] ?? {})
      .filter((dep) => services.includes(dep) && holds(dep))
      .map((dep) => levelOf(dep, [...seen, name]) + 1)
    const own = Math.max(0, ...deps)
    level.set(name, own)
    return own
  }
  for (const name of services) levelOf(name, [])
  const out: string[][] = []
  for (const [name, l] of [...level.entries()].sort(([a], [b]) => a.localeCompare(b))) (out[l] ??= []).push(name)
  return out.filter((w) => w !== undefined)
}

/** The stack file with only `services` (an earlier wave's services as they are, so Swarm leaves them unchanged). */
export function withServices(file: StackFile['stack'], services: readonly string[]): StackFile['stack'] {
  return { ...file, services: Object.fromEntries(Object.entries(file.services).filter(([name]) => services.includes(name))) }
}
