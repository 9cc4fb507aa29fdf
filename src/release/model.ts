import type { EnvironmentConfig } from '../config/types.js'
import { LABEL } from '../names.js'
/** The parts of compose's resolved model (`docker compose config --format json`) that berth reads. */

export interface PortModel {
  target: number
  published?: string
  host_ip?: string
  protocol?: string
}

export interface ServiceModel {
  image?: string
  build?: unknown
  restart?: string
  container_name?: string
  ports?: PortModel[]
  depends_on?: Record<string, { condition?: string }>
  healthcheck?: { test?: string[]; disable?: boolean }
  labels?: Record<string, string>
  /** Network key → the service's settings on it (compose config gives null for none). */
  networks?: Record<string, { aliases?: string[] } | null>
}

/** A network as compose resolves it: `name` is always set in `config` output (`<project>_<key>` unless given). */
export interface NetworkModel {
  name?: string
  external?: boolean
  ipam?: { config?: { subnet?: string }[] }
}

export interface ComposeModel {
  name?: string
  services: Record<string, ServiceModel>
  networks?: Record<string, NetworkModel | null>
}

/** Services others wait on to finish (migrations): they are expected to exit 0, never to keep running. */
export function oneOffServices(model: ComposeModel): Set<string> {
  const out = new Set<string>()
  for (const svc of Object.values(model.services)) {
    for (const [dep, spec] of Object.entries(svc.depends_on ?? {})) {
      if (spec.condition === 'service_completed_successfully') out.add(dep)
    }
  }
  for (const [name, svc] of Object.entries(model.services)) {
    const dependedOn = Object.values(model.services).some((s) => Object.hasOwn(s.depends_on ?? {}, name))
    if (svc.restart === 'no' && dependedOn) out.add(name)
  }
  return out
}

export function builtServices(model: ComposeModel): string[] {
  return Object.entries(model.services).filter(([, s]) => s.build !== undefined).map(([name]) => name)
}

/** `registry:5000/team/web:1.2` → `registry:5000/team/web`; a port in the host is not a tag. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0] as string
  const lastSlash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest
}

/**
 * SPEC §3: `<app>-<service>:<tag>`, or `<repository>:<tag>` when the service names its own image. A Swarm
 * environment's (SPEC §10) is always `<registry>/<app>-<service>:<tag>`, pushed to its registry.
 */
export function releaseImage(app: string, service: string, svc: ServiceModel, tag: string, registry?: string): string {
  if (registry !== undefined) return `${registry}/${app}-${service}:${tag}`
  return `${svc.image ? repositoryOf(svc.image) : `${app}-${service}`}:${tag}`
}

export interface ReleaseOverride {
  /** The generated compose override (a compose file as an object). */
  override: { services: Record<string, Record<string, unknown>> }
  /** service → image the release runs. */
  images: Record<string, string>
  builtImages: string[]
  /** Services that had no restart policy and got `unless-stopped` (seed 001). */
  restartAdded: string[]
}

export interface ReleaseIdentity {
  app: string
  env: string
  tag: string
  git?: string
  /** A Swarm environment's registry: built images are named for it. */
  registry?: string
  /** Swarm restarts tasks itself (any exit, by default): berth then adds no restart policy. */
  restartsItself?: boolean
}

/** Who a release is: the environment's app, name and (Swarm) registry, and the tag. */
export function releaseIdentity(e: { config: { app: string }; env: { name: string; registry?: string; target: EnvironmentConfig['target'] } }, tag: string): ReleaseIdentity {
  return {
    app: e.config.app,
    env: e.env.name,
    tag,
    ...(e.env.registry === undefined ? {} : { registry: e.env.registry }),
    ...(e.env.target === 'swarm' ? { restartsItself: true } : {}),
  }
}

/**
 * The override berth lays over the operator's compose files: pins every built service to the release's
 * image, labels images and containers (SPEC §3) and gives long-running services a restart policy.
 */
export function releaseOverride(model: ComposeModel, id: ReleaseIdentity): ReleaseOverride {
  const oneOff = oneOffServices(model)
  const services: Record<string, Record<string, unknown>> = {}
  const images: Record<string, string> = {}
  const builtImages: string[] = []
  const restartAdded: string[] = []
  for (const [name, svc] of Object.entries(model.services)) {
    const entry: Record<string, unknown> = {
      labels: { [LABEL.app]: id.app, [LABEL.env]: id.env, [LABEL.release]: id.tag },
    }
    if (svc.build !== undefined) {
      const image = releaseImage(id.app, name, svc, id.tag, id.registry)
      entry.image = image
      entry.build = {
        labels: {
          [LABEL.app]: id.app,
          [LABEL.release]: id.tag,
          [LABEL.service]: name,
          ...(id.git ? { [LABEL.git]: id.git } : {}),
        },
      }
      images[name] = image
      builtImages.push(image)
    } else if (svc.image) {
      images[name] = svc.image
    }
    if (svc.restart === undefined && !oneOff.has(name) && !id.restartsItself) {
      entry.restart = 'unless-stopped'
      restartAdded.push(name)
    }
    services[name] = entry
  }
  return { override: { services }, images, builtImages, restartAdded }
}

/** Host ports a model publishes, as "ip:port/proto" keys (ip empty for all interfaces). */
export function publishedPorts(model: ComposeModel): { service: string; port: string; hostIp: string; protocol: string }[] {
  return Object.entries(model.services).flatMap(([service, svc]) =>
    (svc.ports ?? [])
      .filter((p) => p.published !== undefined && p.published !== '')
      .map((p) => ({ service, port: String(p.published), hostIp: p.host_ip ?? '', protocol: p.protocol ?? 'tcp' })),
  )
}
