/** Configuration after validation: absolute paths, durations in milliseconds, defaults applied. */

export interface HttpProbe {
  /** May contain ${VAR}, interpolated from the environment's env file when the probe runs. */
  url: string
  /** Expected status; undefined means any 2xx. */
  status?: number
  contains?: string
  /** Host header to send (set by berth when a probe goes through an edge route shared by host). */
  host?: string
  /**
   * Set by berth for a probe through an HTTPS route of the edge (tls: internal): the name sent in the TLS
   * handshake (SNI), so the edge answers with that host's certificate. The certificate is not verified: it
   * is the edge's own CA's, and what the probe checks is the route to the new colour.
   */
  servername?: string
}

export interface HealthConfig {
  timeoutMs: number
  intervalMs: number
  http: HttpProbe[]
}

/** SPEC §9: a host port the edge proxy owns, sending its traffic to one service of the live colour. */
export interface Route {
  listen: number
  service: string
  /** The service's container port. */
  port: number
  /** Share one listen port between environments by Host header. */
  host?: string
  /**
   * HTTPS on the listen port (SPEC §9): `auto` (the default with a host) is Caddy's automatic HTTPS for the
   * host, `internal` a certificate of Caddy's own local CA, `off` (the only choice without a host) plain HTTP.
   */
  tls: TlsMode
}

export type TlsMode = 'auto' | 'internal' | 'off'

export type Strategy = 'recreate' | 'blue-green'

/** What a deploy or rollback ended with, as its exit code says (SPEC §4): ok 0, rolled-back 3, needs-person 4, failed any other. */
export type RunResult = 'ok' | 'failed' | 'rolled-back' | 'needs-person'

/** SPEC §11: a webhook POSTed at the end of a deploy or rollback. */
export interface Webhook {
  /** As written: may contain ${VAR}, filled in from the environment's env file. A secret (it often holds a token). */
  url: string
  /** The results it is sent for. */
  on: RunResult[]
}

/** SPEC §10: how the environment is grouped on its engine: a compose project, or a Swarm stack. */
export type TargetKind = 'compose' | 'swarm'

/**
 * SPEC §10: where an environment's engine is. `shell`: the local default, or what the operator's shell points at
 * (DOCKER_HOST / DOCKER_CONTEXT). `ssh`: another host, over one SSH connection per run. `context`: a Docker
 * context that is not ssh:// (an ssh:// context is resolved to `ssh` when berth starts).
 */
export type EngineLocation =
  | { kind: 'shell' }
  | SshLocation
  | { kind: 'context'; name: string; connectTimeoutMs: number }

export interface SshLocation {
  kind: 'ssh'
  /** As written: ssh://user@host:port. */
  url: string
  user?: string
  host: string
  port?: number
  connectTimeoutMs: number
  /** Set when the URL came from a Docker context's endpoint. */
  context?: string
}

/** SPEC §11: when a hook runs. */
export type HookName = 'pre_deploy' | 'post_deploy' | 'pre_rollback' | 'post_rollback' | 'on_failure'

/** A command run on the operator's machine, in the directory of deploy.yml, around a deploy or rollback. */
export interface Hook {
  name: HookName
  /** Given to sh -c. */
  run: string
  timeoutMs: number
  /** Env-file variables the hook gets; it gets no other. */
  pass: string[]
}

/** The environment's hooks, after merging the top level's with its own (absent: none). */
export type Hooks = Partial<Record<HookName, Hook>>

export interface EnvironmentConfig {
  name: string
  /** Where its engine is (host: or context:, else the shell's). */
  location: EngineLocation
  /** compose (default) or swarm: the stack <app>-<env> (SPEC §10). */
  target: TargetKind
  /** swarm: where release images are pushed, as the engine sees it. */
  registry?: string
  /** swarm: the env file variables of the registry's user name and password (SPEC §10); else the operator's docker login. */
  registryLogin?: { username: string; password: string }
  /** Compose project name: <app>-<env> (a swarm environment's stack name). */
  project: string
  /** Absolute path. */
  envFile: string
  /** Absolute paths: the top-level files followed by the environment's own. */
  composeFiles: string[]
  required: string[]
  /** Extra keys whose values are secrets besides those matching the SPEC §8 pattern. */
  secrets: string[]
  health: HealthConfig
  confirm: boolean
  keep: number
  strategy: Strategy
  /** blue-green: services shared by both colours, run in <app>-<env> (databases, queues, volumes). */
  stateful: string[]
  /** blue-green: what the edge routes to the live colour. */
  routes: Route[]
  /** blue-green: how long the old colour keeps serving in-flight requests before it is stopped. */
  drainMs: number
  /**
   * blue-green: after a switch, the previous colour's routed services keep running (`running`, so a rollback to
   * it is a switch) and its others are stopped, or all of it is stopped (`stopped`).
   */
  idle: 'running' | 'stopped'
  /** blue-green: how long deploy watches the new colour after the switch, switching back by itself on a failure (0: not at all). */
  watchMs: number
  /**
   * Networks beyond the environment's own project (external ones) on which its services may answer to the same
   * names as another environment's: accepted knowingly, warned about by status and doctor (SPEC §7).
   */
  sharedNetworks: string[]
  /** SPEC §11: the top level's hooks with the environment's own in their place, key by key. */
  hooks: Hooks
  /** Webhooks: the environment's own notify: list, else the top level's (SPEC §11). */
  notify: Webhook[]
  /** SPEC §11: set on an environment made from a pattern (a preview): how it was made and when it expires. */
  preview?: PreviewSettings
}

/** SPEC §11: what a pattern (`preview-*`) gives each preview environment made from it. */
export interface PreviewSettings {
  /** The pattern's key in deploy.yml, like preview-*. */
  pattern: string
  /** Absolute path of env_template. */
  template: string
  /** How many host ports the template uses: the highest n of its ${BERTH_PORT_n}. */
  portCount: number
  /** Where those ports come from (both ends included); set whenever portCount > 0. */
  ports?: PortRange
  /** Expires this long after its last deploy; undefined: never. */
  ttlMs?: number
}

export interface PortRange {
  first: number
  last: number
}

/** The managed edge proxy of the host (compose project berth-edge), shared by every app and environment. */
export interface EdgeConfig {
  image: string
}

export interface Config {
  app: string
  /** Absolute path of deploy.yml. */
  file: string
  /** Directory of deploy.yml; relative paths inside it are resolved from here. */
  dir: string
  /** Absolute path of the state directory (default <dir>/.berth). */
  stateDir: string
  environments: Map<string, EnvironmentConfig>
  edge: EdgeConfig
  /** Where the networks of this app's environments take their subnets from, when not the engine's pools. */
  networkPool?: NetworkPool
  /**
   * SPEC §11: the patterns of deploy.yml (`preview-*`), for names not yet deployed; each preview that has state is
   * in `environments` already. Undefined or empty: deploy.yml has none.
   */
  patterns?: EnvironmentPattern[]
}

/** A pattern of deploy.yml: makes the environment of a name that matches it. */
export interface EnvironmentPattern {
  pattern: string
  /** The environment of a concrete name matching the pattern (matched beforehand). */
  environment(name: string): EnvironmentConfig
}

/** deploy.yml's network_pool: subnets of `size` bits carved out of `base`. */
export interface NetworkPool {
  base: string
  size: number
}
