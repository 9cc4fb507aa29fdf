import { readFileSync, statSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Document, LineCounter } from 'yaml'
import { ConfigError, UsageError } from '../errors.js'
import { cachedDeployFile, rememberDeployFile } from './cache.js'
import { formatPath, NAME_PATTERN, NAME_RULE, type SchemaIssue, SSH_URL_PATTERN } from './rules.js'
import type { DeployFile } from './schema.js'
import type { Config, EngineLocation, EnvironmentConfig, EnvironmentPattern, HealthConfig, Route, SshLocation } from './types.js'
import { EDGE_PROJECT, projectName } from '../names.js'
import { fillStar, isPattern, matchPattern, patternsMatching } from '../preview/pattern.js'
import { templateUse } from '../preview/template.js'
import { environmentPaths } from '../state/paths.js'
import { resolveHooks } from './hooks.js'
import { byCodePoint } from '../order.js'

export interface LoadOptions {
  /** --config, relative to cwd. */
  file?: string
  cwd: string
  /** Read for BERTH_CONFIG only. */
  env?: NodeJS.ProcessEnv
}

export const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']
const DEFAULT_HEALTH: HealthConfig = { timeoutMs: 120_000, intervalMs: 2_000, http: [] }
const DEFAULT_DRAIN_MS = 10_000

/** Reads, validates and resolves deploy.yml; every problem found is reported at once, with its line. */
export async function loadConfig({ file, cwd, env = process.env }: LoadOptions): Promise<Config> {
  const given = file ?? (env.BERTH_CONFIG || undefined)
  const configFile = resolve(cwd, given ?? 'deploy.yml')
  const text = await readConfig(configFile, given !== undefined)
  const source = new Source(configFile, text)
  // The same text validated by this build before (config/cache.ts): neither YAML nor the schema is loaded.
  const cached = cachedDeployFile(text, env)
  if (cached) return resolveConfig(cached, source)

  const [{ validateDeployFile }, doc] = await Promise.all([import('./schema.js'), source.document()])
  // An empty file reports the keys it lacks rather than its type.
  const validation = validateDeployFile(doc.toJS() ?? {})
  if (!validation.ok) throw await source.error(validation.issues)
  rememberDeployFile(text, validation.value, env)
  return resolveConfig(validation.value, source)
}

/**
 * The configured environment called name; the name is checked first because it ends up in paths. A preview
 * (SPEC §11) that has state is one of them; `fromPattern` (deploy only) also makes the environment of a name
 * that matches a pattern of deploy.yml and is not deployed yet.
 */
export function selectEnvironment(config: Config, name: string, options: { fromPattern?: boolean } = {}): EnvironmentConfig {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`invalid environment name ${JSON.stringify(name)}: names ${NAME_RULE}`, undefined, 'INVALID_ENVIRONMENT')
  }
  const environment = config.environments.get(name)
  if (environment) return environment
  const patterns = config.patterns ?? []
  const matching = patternsMatching(patterns.map((p) => p.pattern), name)
  if (matching.length > 1) {
    throw new UsageError(
      `environment "${name}" matches more than one pattern of ${basename(config.file)}: ${matching.join(', ')}`,
      `make the patterns under environments: in ${config.file} not overlap`,
      'AMBIGUOUS_ENVIRONMENT',
    )
  }
  const pattern = patterns.find((p) => p.pattern === matching[0])
  if (pattern && options.fromPattern) return pattern.environment(name)
  const known = [...config.environments.keys(), ...patterns.map((p) => `${p.pattern} (pattern)`)].join(', ')
  throw new UsageError(
    `unknown environment "${name}"; ${basename(config.file)} defines: ${known}`,
    pattern ? `${name} matches ${pattern.pattern} but has not been deployed: create it with berth deploy ${name}` : `add it under environments: in ${config.file}`,
    'UNKNOWN_ENVIRONMENT',
  )
}

// deploy.yml and the files it names are read and checked with synchronous calls: a command has nothing else to do
// meanwhile, and each asynchronous one is a round trip through libuv's thread pool (about 1 ms of status's start).
async function readConfig(file: string, given: boolean): Promise<string> {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`)
    }
    if (given) throw new ConfigError(`${file} does not exist`, 'check --config or BERTH_CONFIG', 'CONFIG_NOT_FOUND')
    throw new ConfigError(`no deploy.yml in ${dirname(file)}`, 'create one with `berth init` or pass --config PATH', 'CONFIG_NOT_FOUND')
  }
}

/**
 * deploy.yml's text, parsed when it is first needed (to validate it, or to point a message at a line): a config
 * from the cache is never parsed unless a later check finds something to say. `yaml` is imported then too.
 */
class Source {
  private parsed: Promise<{ doc: Document; lines: LineCounter; yaml: typeof import('yaml') }> | undefined

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  async document(): Promise<Document> {
    return (await this.parse()).doc
  }

  private parse() {
    this.parsed ??= import('yaml').then((yaml) => {
      const lines = new yaml.LineCounter()
      const doc = yaml.parseDocument(this.text, { lineCounter: lines, prettyErrors: false })
      if (doc.errors.length > 0) {
        const name = basename(this.file)
        const messages = doc.errors.map((error) => `${name}:${lines.linePos(error.pos[0]).line} ${error.message}`)
        throw new ConfigError(messages.join('\n'), undefined, 'CONFIG_SYNTAX')
      }
      return { doc, lines, yaml }
    })
    return this.parsed
  }

  /** One ConfigError listing every issue, in the order of the file. */
  async error(issues: SchemaIssue[]): Promise<ConfigError> {
    const { doc, lines, yaml } = await this.parse()
    const located = issues.map((issue) => ({ ...issue, line: lineOf(doc, lines, yaml, issue.path) }))
    located.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
    const name = basename(this.file)
    const messages = located.map(({ path, message, line }) => {
      const where = line === undefined ? name : `${name}:${line}`
      return path.length === 0 ? `${where} ${message}` : `${where} ${formatPath(path)}: ${message}`
    })
    return new ConfigError(messages.join('\n'))
  }
}

/** Line of the key (or list item) at path, or of its nearest ancestor present in the file. */
function lineOf(doc: Document, lines: LineCounter, yaml: typeof import('yaml'), path: SchemaIssue['path']): number | undefined {
  const { isMap, isNode, isScalar, isSeq } = yaml
  let node: unknown = doc.contents
  let offset = isNode(node) ? node.range?.[0] : undefined
  for (const key of path) {
    let located: unknown
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(key))
      if (!pair) break
      located = pair.key
      node = pair.value
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key]
      located = node
    } else {
      break
    }
    if (isNode(located)) offset = located.range?.[0] ?? offset
  }
  return offset === undefined ? undefined : lines.linePos(offset).line
}

async function resolveConfig(raw: DeployFile, source: Source): Promise<Config> {
  const dir = dirname(source.file)
  // Missing files and rules that span keys, reported together after the schema's own checks passed.
  const missing: SchemaIssue[] = [...checkEnvironments(raw), ...checkPatterns(raw)]
  const files = composeFileResolver(dir, missing)
  const baseCompose = raw.compose !== undefined ? await files(raw.compose, ['compose']) : await defaultComposeFile(dir, missing)
  const environments = new Map<string, EnvironmentConfig>()
  const patterns: EnvironmentPattern[] = []
  for (const [name, env] of Object.entries(raw.environments)) {
    const own = env.compose === undefined ? [] : await files(env.compose, ['environments', name, 'compose'])
    if (isPattern(name)) patterns.push(await environmentPattern(raw, dir, name, env, [...baseCompose, ...own], missing))
    else environments.set(name, environmentConfig(raw, dir, name, env, [...baseCompose, ...own]))
  }
  if (missing.length > 0) throw await source.error(missing)
  const stateDir = resolve(dir, raw.state_dir ?? '.berth')
  for (const [name, pattern] of await previewsInState(stateDir, environments, patterns)) environments.set(name, pattern.environment(name))
  return {
    app: raw.app,
    file: source.file,
    dir,
    stateDir,
    environments,
    edge: { image: raw.edge.image },
    ...(raw.network_pool ? { networkPool: { base: raw.network_pool.base, size: raw.network_pool.size } } : {}),
    ...(patterns.length > 0 ? { patterns } : {}),
  }
}

// --- Preview environments (SPEC §11) ---

/**
 * A pattern of deploy.yml (`preview-*`): its template is read now, so that a variable berth cannot fill, or a
 * port range too small for it, is a configuration error like any other, before anything runs.
 */
async function environmentPattern(
  raw: DeployFile,
  dir: string,
  pattern: string,
  env: DeployFile['environments'][string],
  composeFiles: string[],
  missing: SchemaIssue[],
): Promise<EnvironmentPattern> {
  const at = (key: string): SchemaIssue['path'] => ['environments', pattern, key]
  const template = env.env_template === undefined ? undefined : resolve(dir, env.env_template)
  let portCount = 0
  if (template !== undefined) {
    const text = await readFile(template, 'utf8').catch(() => undefined)
    if (text === undefined) missing.push({ path: at('env_template'), message: `${template} does not exist` })
    else {
      const use = templateUse(text)
      portCount = use.portCount
      if (use.unknown.length > 0) {
        missing.push({ path: at('env_template'), message: `${template} uses ${use.unknown.map((v) => `\${${v}}`).join(', ')}, which berth does not fill (it fills \${BERTH_ENV}, \${BERTH_APP} and \${BERTH_PORT_1}, \${BERTH_PORT_2}…)` })
      }
      const size = env.ports ? env.ports.last - env.ports.first + 1 : 0
      if (portCount > 0 && !env.ports) missing.push({ path: at('ports'), message: `${template} uses \${BERTH_PORT_${portCount}}: give the range its ports come from, like ports: 41000-41999` })
      else if (portCount > size) missing.push({ path: at('ports'), message: `has ${size} ports, fewer than the ${portCount} ${template} uses` })
    }
  }
  return {
    pattern,
    environment(name) {
      const part = matchPattern(pattern, name) ?? name
      const own = env.env_file === undefined ? env : { ...env, env_file: fillStar(env.env_file, part) }
      return {
        ...environmentConfig(raw, dir, name, own, composeFiles),
        preview: {
          pattern,
          template: template ?? '',
          portCount,
          ...(env.ports ? { ports: env.ports } : {}),
          ...(env.ttl !== undefined ? { ttlMs: env.ttl } : {}),
        },
      }
    },
  }
}

/**
 * The previews made earlier (SPEC §11): every directory of the state directory with a preview record whose name
 * deploy.yml does not define and exactly one pattern matches. Their names, sorted, with their pattern.
 */
async function previewsInState(stateDir: string, environments: ReadonlyMap<string, EnvironmentConfig>, patterns: readonly EnvironmentPattern[]): Promise<[string, EnvironmentPattern][]> {
  if (patterns.length === 0) return []
  const entries = await readdir(stateDir, { withFileTypes: true }).catch(() => [])
  const found: [string, EnvironmentPattern][] = []
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => byCodePoint(a.name, b.name))) {
    const { name } = entry
    if (environments.has(name) || !NAME_PATTERN.test(name)) continue
    const matching = patterns.filter((p) => matchPattern(p.pattern, name) !== undefined)
    if (matching.length !== 1 || !(await isFile(environmentPaths(stateDir, name).preview))) continue
    found.push([name, matching[0] as EnvironmentPattern])
  }
  return found
}

/** SPEC §11 rules of patterns: the keys only a pattern takes, what a pattern needs, and where its previews run. */
function checkPatterns(raw: DeployFile): SchemaIssue[] {
  const issues: SchemaIssue[] = []
  for (const [name, env] of Object.entries(raw.environments)) {
    const at = (...keys: SchemaIssue['path']): SchemaIssue['path'] => ['environments', name, ...keys]
    if (!isPattern(name)) {
      for (const key of ['env_template', 'ttl', 'ports'] as const) {
        if (env[key] !== undefined) issues.push({ path: at(key), message: 'only on an environment pattern (a name with a *, like preview-*)' })
      }
      continue
    }
    if (env.env_template === undefined) issues.push({ path: at('env_template'), message: "a pattern needs the template of its previews' env files, like env_template: environments/preview.env.template" })
    if (env.env_file !== undefined && env.env_file.split('*').length !== 2) {
      issues.push({ path: at('env_file'), message: 'a pattern\'s env_file needs one * (each preview its own file, like environments/preview-*.env)' })
    }
    for (const key of ['host', 'context'] as const) {
      if (env[key] !== undefined) issues.push({ path: at(key), message: 'previews run on the local engine: berth allocates their ports on this host' })
    }
    if (env.target === 'swarm') issues.push({ path: at('target'), message: 'previews are compose projects on the local engine: remove target: swarm' })
  }
  return issues
}

/** Absolute paths of the compose files at a key path, each checked to exist (a missing one is added to `missing`). */
function composeFileResolver(dir: string, missing: SchemaIssue[]) {
  return async (value: string | string[], path: SchemaIssue['path']): Promise<string[]> => {
    const names = typeof value === 'string' ? [value] : value
    const paths = names.map((name) => resolve(dir, name))
    for (const [i, file] of paths.entries()) {
      if (!(await isFile(file))) missing.push({ path: typeof value === 'string' ? path : [...path, i], message: `${file} does not exist` })
    }
    return paths
  }
}

/** The first of compose's default file names beside deploy.yml. */
async function defaultComposeFile(dir: string, missing: SchemaIssue[]): Promise<string[]> {
  const found = await firstFile(DEFAULT_COMPOSE_FILES.map((name) => join(dir, name)))
  if (found !== undefined) return [found]
  missing.push({ path: ['compose'], message: `no compose file in ${dir} (looked for ${DEFAULT_COMPOSE_FILES.join(', ')})` })
  return []
}

/** One environment with every default applied: the top level's settings, then its own, key by key. */
function environmentConfig(raw: DeployFile, dir: string, name: string, env: DeployFile['environments'][string], composeFiles: string[]): EnvironmentConfig {
  return {
    name,
    location: engineLocation(env),
    target: env.target,
    ...(env.registry === undefined ? {} : { registry: env.registry }),
    ...(env.registry_login === undefined ? {} : { registryLogin: env.registry_login }),
    project: projectName(raw.app, name),
    envFile: resolve(dir, env.env_file ?? join('environments', `${name}.env`)),
    composeFiles,
    required: env.required ?? [],
    secrets: env.secrets ?? [],
    health: {
      timeoutMs: env.health?.timeout ?? raw.health?.timeout ?? DEFAULT_HEALTH.timeoutMs,
      intervalMs: env.health?.interval ?? raw.health?.interval ?? DEFAULT_HEALTH.intervalMs,
      http: env.health?.http ?? raw.health?.http ?? DEFAULT_HEALTH.http,
    },
    confirm: env.confirm,
    keep: env.keep ?? raw.releases.keep,
    strategy: env.strategy,
    stateful: env.stateful ?? [],
    routes: (env.routes ?? []).map(({ listen, service, port, host, tls }): Route => ({
      listen,
      service,
      port,
      // Host headers match case-insensitively; one spelling keeps the edge's routes and berth's records comparable.
      ...(host === undefined ? {} : { host: host.toLowerCase() }),
      tls: tls ?? (host === undefined ? 'off' : 'auto'),
    })),
    drainMs: env.drain ?? DEFAULT_DRAIN_MS,
    idle: env.idle ?? 'running',
    watchMs: env.watch ?? 0,
    sharedNetworks: env.shared_networks ?? [],
    hooks: resolveHooks(raw.hooks, env.hooks),
    notify: env.notify ?? raw.notify ?? [],
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** SPEC §10: host: or context: (checked not to be both), else the shell's engine. */
function engineLocation(env: DeployFile['environments'][string]): EngineLocation {
  const connectTimeoutMs = env.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_MS
  if (env.host !== undefined) return parseSshUrl(env.host, connectTimeoutMs)
  if (env.context !== undefined) return { kind: 'context', name: env.context, connectTimeoutMs }
  return { kind: 'shell' }
}

/** ssh://[user@]host[:port] (already matched by the schema's pattern) as its parts. */
export function parseSshUrl(url: string, connectTimeoutMs: number): SshLocation {
  const [, user, host, port] = SSH_URL_PATTERN.exec(url) ?? []
  return {
    kind: 'ssh',
    url,
    ...(user ? { user } : {}),
    host: (host ?? '').replace(/^\[(.*)\]$/, '$1'),
    ...(port ? { port: Number(port) } : {}),
    connectTimeoutMs,
  }
}

/** SPEC §9 rules that span keys: strategy-only keys, routes, stateful services, project names of the colours. */
function checkEnvironments(raw: DeployFile): SchemaIssue[] {
  const issues: SchemaIssue[] = []
  const claimed: { path: SchemaIssue['path']; listen: number; host?: string; tls: boolean }[] = []
  /** Each host name's certificate, by the first route that asks for one: a name has one certificate on the edge. */
  const certificates = new Map<string, { path: SchemaIssue['path']; tls: 'auto' | 'internal' }>()

  for (const [name, env] of Object.entries(raw.environments)) {
    const at = (...keys: SchemaIssue['path']): SchemaIssue['path'] => ['environments', name, ...keys]
    if (env.host !== undefined && env.context !== undefined) {
      issues.push({ path: at('context'), message: 'give host: or context:, not both (they both say where the engine is)' })
    }
    if (env.connect_timeout !== undefined && env.host === undefined && env.context === undefined) {
      issues.push({ path: at('connect_timeout'), message: 'only with host: or context:' })
    }
    const port = env.host === undefined ? undefined : SSH_URL_PATTERN.exec(env.host)?.[3]
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) issues.push({ path: at('host'), message: `port ${port} is not from 1 to 65535` })

    // Compose projects are named <app>-<env>, so environment `x-blue` would share its project with the blue colour of `x`.
    const project = projectName(raw.app, name)
    const [, base, colour] = /^(.+)-(blue|green)$/.exec(name) ?? []
    if (base !== undefined && raw.environments[base]?.strategy === 'blue-green') {
      issues.push({ path: at(), message: `compose project ${project} is also the ${colour} colour of environments.${base}; rename one of them` })
    }
    if (project === EDGE_PROJECT) issues.push({ path: at(), message: `compose project ${project} is the edge proxy's; rename the environment` })

    if (env.target !== 'swarm' && env.registry !== undefined) issues.push({ path: at('registry'), message: 'only with target: swarm' })
    if (env.registry_login !== undefined && env.registry === undefined) issues.push({ path: at('registry_login'), message: 'only with registry:' })
    if (env.registry_login !== undefined && !(env.secrets ?? []).includes(env.registry_login.password)) {
      issues.push({ path: at('registry_login', 'password'), message: `list ${env.registry_login.password} under secrets: too, so its value is masked in every output` })
    }
    if (env.target === 'swarm' && env.strategy === 'blue-green') {
      issues.push({
        path: at('strategy'),
        message: "blue-green is berth's edge for compose projects; on Swarm, zero-downtime is Swarm's own update order (start-first), which berth sets where the ports allow it: remove strategy: blue-green",
      })
    }

    if (env.strategy !== 'blue-green') {
      for (const key of ['routes', 'stateful', 'drain', 'idle', 'watch'] as const) {
        if (env[key] !== undefined) issues.push({ path: at(key), message: 'only with strategy: blue-green' })
      }
      continue
    }

    const stateful = env.stateful ?? []
    stateful.forEach((service, i) => {
      const first = stateful.indexOf(service)
      if (first < i) issues.push({ path: at('stateful', i), message: `${service} is already listed at stateful[${first}]` })
    })

    const routes = env.routes ?? []
    if (routes.length === 0) issues.push({ path: at('routes'), message: 'a blue-green environment needs at least one route' })
    routes.forEach((route, i) => {
      if (stateful.includes(route.service)) {
        issues.push({
          path: at('routes', i, 'service'),
          message: `routed service ${route.service} is stateful: stateful services are shared by both colours and cannot be switched`,
        })
      }
      const host = route.host?.toLowerCase()
      const tls = route.tls ?? (host === undefined ? 'off' : 'auto')
      // Each route is compared with those before it in the file, so every clash is reported once, at its second claimant.
      const clash = claimed.find((other) => other.listen === route.listen && (other.host === undefined || host === undefined || other.host === host))
      if (clash) {
        const how = host !== undefined && clash.host === host ? `with the same host ${host}` : 'without a distinct host'
        issues.push({ path: at('routes', i), message: `listen ${route.listen} is also claimed by ${formatPath(clash.path)} ${how}` })
      }
      // One listen port is one server on the edge: HTTPS or plain HTTP, for every host on it.
      const mixed = clash ? undefined : claimed.find((other) => other.listen === route.listen && other.tls !== (tls !== 'off'))
      if (mixed) {
        issues.push({
          path: at('routes', i, 'tls'),
          message: `listen ${route.listen} is ${mixed.tls ? 'HTTPS' : 'plain HTTP'} for ${formatPath(mixed.path)}, and one port cannot be both: give this route another listen port, or the same tls`,
        })
      }
      if (host !== undefined && tls !== 'off') {
        const cert = certificates.get(host)
        if (cert && cert.tls !== tls) {
          issues.push({ path: at('routes', i, 'tls'), message: `host ${host} has tls: ${cert.tls} at ${formatPath(cert.path)}: one name has one certificate on the edge, so give both the same tls` })
        }
        if (!cert) certificates.set(host, { path: at('routes', i), tls })
      }
      claimed.push({ path: at('routes', i), listen: route.listen, ...(host === undefined ? {} : { host }), tls: tls !== 'off' })
    })
  }
  return issues
}

async function isFile(path: string): Promise<boolean> {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

async function firstFile(candidates: string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await isFile(candidate)) return candidate
  return undefined
}
