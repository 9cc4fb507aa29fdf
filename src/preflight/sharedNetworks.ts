import type { EnvironmentConfig } from '../config/types.js'
import { inspectNetworkEndpoints, psOnNetworks } from '../docker/docker.js'
import { type Container, parseJsonLines, parsePs } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import type { ComposeModel } from '../release/model.js'
import type { Deps } from '../run/context.js'
import { strategyOf } from '../strategy/strategy.js'
import { describeContainer } from '../inspect/hostPorts.js'

/**
 * SPEC §7 shared networks: compose gives every service its name (and its aliases) as DNS names on every
 * network it joins. On a network that reaches beyond the environment's own project (external, or named
 * outside `<project>_…`), two environments' `web` both answer to `web`, and a proxy there (seed 004's
 * nginx on `platform`) sends part of production's traffic to staging.
 */

/** The names one service answers to on one network that is not the environment's own. */
export interface SharedName {
  /** The network's real name (what `docker network ls` shows). */
  network: string
  /** Its key in the compose files. */
  key: string
  service: string
  names: string[]
}

/** Networks the project does not own: external ones, and those named outside `<project>_…`. */
export function namesOnSharedNetworks(model: ComposeModel, project: string): SharedName[] {
  const out: SharedName[] = []
  for (const [service, svc] of Object.entries(model.services)) {
    // Resolved configs list every service's networks; one without any has a network_mode of its own.
    for (const [key, settings] of Object.entries(svc.networks ?? {})) {
      const spec = model.networks?.[key]
      const network = spec?.name ?? `${project}_${key}`
      if (!spec?.external && network.startsWith(`${project}_`)) continue
      out.push({ network, key, service, names: [...new Set([service, ...(settings?.aliases ?? [])])] })
    }
  }
  return out
}

/**
 * An environment accepts sharing a network by listing its name under shared_networks: the engine's name (what
 * `docker network ls` shows), which status and doctor also see, not the compose file's key for it.
 */
export function acceptsSharing(env: Pick<EnvironmentConfig, 'sharedNetworks'>, name: Pick<SharedName, 'network'>): boolean {
  return env.sharedNetworks.includes(name.network)
}

/** A container of someone else attached to a network, with the DNS names it answers to there. */
export interface Endpoint {
  container: Container
  network: string
  names: string[]
}

export interface NameClash {
  network: string
  service: string
  name: string
  holder: string
}

/** Which wanted names another container already answers to on the same network. */
export function findNameClashes(wanted: readonly SharedName[], endpoints: readonly Endpoint[]): NameClash[] {
  const clashes: NameClash[] = []
  for (const w of wanted) {
    for (const e of endpoints) {
      if (e.network !== w.network) continue
      const name = w.names.find((n) => e.names.includes(n))
      if (name) clashes.push({ network: w.network, service: w.service, name, holder: describeContainer(e.container) })
    }
  }
  return clashes
}

/** Names a container answers to on each network: its aliases there, its name, and its compose service. */
export function endpointsOf(containers: readonly Container[], inspected: readonly Record<string, unknown>[], networks: ReadonlySet<string>): Endpoint[] {
  const out: Endpoint[] = []
  for (const c of containers) {
    const row = inspected.find((r) => r.id === c.id)
    const attached = (row?.networks ?? {}) as Record<string, { Aliases?: string[] | null; DNSNames?: string[] | null } | null>
    for (const [network, endpoint] of Object.entries(attached)) {
      if (!networks.has(network)) continue
      const names = [...(endpoint?.Aliases ?? []), ...(endpoint?.DNSNames ?? []), c.name, ...(c.service ? [c.service] : [])]
      out.push({ container: c, network, names: [...new Set(names)] })
    }
  }
  return out
}

/** Preflight (deploy and rollback): refuse the deploy that would make a second answer to one name on one shared network. */
export async function refuseSharedNames(deps: Pick<Deps, 'run' | 'target'>, model: ComposeModel, env: EnvironmentConfig): Promise<void> {
  const wanted = namesOnSharedNetworks(model, env.project).filter((w) => !acceptsSharing(env, w))
  if (wanted.length === 0) return
  const networks = [...new Set(wanted.map((w) => w.network))]
  const own = new Set(strategyOf(env).projects(env))
  const others = parsePs((await deps.run(psOnNetworks(deps.target.engine, networks))).stdout, deps.target.labels).filter((c) => !own.has(c.project ?? ''))
  if (others.length === 0) return
  // allowFailure: a container removed between ps and inspect makes inspect exit 1; the others still print.
  const inspected = parseJsonLines((await deps.run(inspectNetworkEndpoints(deps.target.engine, others.map((c) => c.id)), { allowFailure: true })).stdout)
  const clashes = findNameClashes(wanted, endpointsOf(others, inspected, new Set(networks)))
  if (clashes.length === 0) return
  const keys = [...new Set(wanted.filter((w) => clashes.some((c) => c.network === w.network)).map((w) => w.key))]
  const names = [...new Set(clashes.map((c) => c.network))]
  throw new PreflightError(
    `${env.name}: ${clashes.map((c) => `${c.service} would answer as "${c.name}" on the shared network ${c.network}, where ${c.holder} already answers to it`).join('; ')}. A client on ${names.join(', ')} asking for that name would reach both environments.`,
    `Give each environment a network of its own, named from its env file (networks: {${keys[0]}: {name: ${keys[0]}-\${APP_ENV}, external: true}}), or accept the sharing knowingly: shared_networks: [${names.join(', ')}] under environments.${env.name} in deploy.yml.`,
    'SHARED_NETWORK_NAME',
  )
}

/** What status and doctor report: an environment's service answering to the same name as another's on a shared network. */
export interface SharedNameFinding {
  environment: string
  network: string
  service: string
  /** Who else answers to that name there. */
  holder: string
  /** The environment lists the network under shared_networks. */
  accepted: boolean
}

/**
 * From one host listing (ps with networks): no alias is read, so names are the compose service and the container
 * name. Networks an environment owns (`<project>_…`) and the default bridge (no DNS there) are skipped.
 */
export function sharedNameFindings(envs: readonly EnvironmentConfig[], containers: readonly Container[]): SharedNameFinding[] {
  const out: SharedNameFinding[] = []
  for (const env of envs) {
    const own = new Set(strategyOf(env).projects(env))
    const mine = containers.filter((c) => own.has(c.project ?? ''))
    for (const c of mine) {
      if (!c.service) continue
      for (const network of c.networks ?? []) {
        if (network === 'bridge' || network === 'host' || network === 'none' || network.startsWith(`${env.project}_`)) continue
        for (const other of containers) {
          if (own.has(other.project ?? '') || !(other.networks ?? []).includes(network)) continue
          if (other.service !== c.service && other.name !== c.service) continue
          const holder = describeContainer(other)
          if (out.some((f) => f.environment === env.name && f.network === network && f.service === c.service && f.holder === holder)) continue
          out.push({ environment: env.name, network, service: c.service, holder, accepted: env.sharedNetworks.includes(network) })
        }
      }
    }
  }
  return out
}

export function describeSharedName(f: SharedNameFinding): string {
  return `${f.service} answers as "${f.service}" on the shared network ${f.network}, and so does ${f.holder}${f.accepted ? ' (accepted: shared_networks)' : ''}`
}
