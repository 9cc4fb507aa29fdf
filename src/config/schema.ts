import * as z from 'zod'
import { DURATION_PATTERN, parseDuration } from './duration.js'
import type { EdgeConfig } from './types.js'
import { describeIssue, formatPath, HOOK_NAMES, NAME_PATTERN, NAME_RULE, schemaIssues, type SchemaIssue, SSH_URL_PATTERN } from './rules.js'


export const DEFAULT_EDGE: EdgeConfig = { image: 'caddy:2' }

const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/
const DURATION_MESSAGE = 'expected a duration like "90s"'

const name = z.string().regex(NAME_PATTERN, NAME_RULE)

const path = z.string().min(1, 'expected a path')

const files = z.union([path, z.array(path).min(1, 'expected at least one file')], {
  error: 'expected a file name or a list of file names',
})

const envVarNames = z.array(z.string().regex(ENV_VAR_PATTERN, 'expected a variable name like DATABASE_URL'))

/** A duration in milliseconds; zero only where "no wait at all" makes sense. */
function durationSchema({ allowZero }: { allowZero: boolean }) {
  return z
    .union([z.string(), z.number()], { error: DURATION_MESSAGE })
    .transform((value, ctx) => {
      const ms = parseDuration(value)
      if (ms !== undefined && (ms > 0 || allowZero)) return ms
      ctx.addIssue({ code: 'custom', message: ms === 0 ? 'must be longer than 0s' : DURATION_MESSAGE })
      return z.NEVER
    })
    // JSON Schema applies `pattern` to strings only, so numbers of seconds stay valid for editors.
    .meta({ pattern: DURATION_PATTERN.source })
}

const duration = durationSchema({ allowZero: false })

const keep = z.int('expected a whole number').min(1, 'must be at least 1')

const PORT_MESSAGE = 'expected a port number from 1 to 65535'
// A missing port falls through to describeIssue's "is required".
const port = z
  .int({ error: (issue) => (issue.input === undefined ? undefined : PORT_MESSAGE) })
  .min(1, PORT_MESSAGE)
  .max(65535, PORT_MESSAGE)

/** The compose specification's rule for service names. */
export const SERVICE_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const service = z.string().regex(SERVICE_PATTERN, 'expected a compose service name')

/** A DNS name (or an IPv4 address) as a Host header carries it, without port or wildcard. */
const HOST_PATTERN = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/

const route = z.strictObject({
  listen: port.describe('Host port the edge proxy listens on (on every interface).'),
  service: service.describe('Service of the live colour the traffic goes to; it must not be stateful.'),
  port: port.describe('Container port of that service.'),
  host: z
    .string()
    .regex(HOST_PATTERN, 'expected a host name like shop.example.com')
    .optional()
    .describe('Only requests with this Host header; lets environments share one listen port.'),
  tls: z
    .enum(['auto', 'internal', 'off'], { error: 'expected auto, internal or off' })
    .optional()
    .describe(
      'HTTPS on the listen port for host: (SPEC §9). auto (the default with host:): Caddy\'s automatic HTTPS, a certificate from a public CA for that name. ' +
        'internal: a certificate of the edge\'s own local CA (private networks, tests). off (the default, and the only choice, without host:): plain HTTP. ' +
        'With listen: 443, port 80 answers that host with a redirect to https.',
    ),
}).superRefine((route, ctx) => {
  if (route.tls === undefined || route.tls === 'off') return
  if (route.host === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls: ${route.tls} needs host: a certificate is issued for a name, and a route without host: answers every name (add host:, or remove tls:)` })
  } else if (route.listen === 80) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'port 80 is plain HTTP (it carries the redirect to https of listen: 443 routes): use listen: 443, or tls: off' })
  }
})

const httpProbe = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\//, 'expected an http:// or https:// URL')
    .describe('URL probed from the host; ${VAR} is taken from the environment\'s env file.'),
  status: z
    .int('expected an HTTP status code')
    .min(100, 'expected an HTTP status code')
    .max(599, 'expected an HTTP status code')
    .optional()
    .describe('Expected HTTP status (default: any 2xx).'),
  contains: z.string().optional().describe('Substring the response body must contain.'),
})

/** Every key optional: the top level gives defaults, an environment overrides them key by key. */
const health = z.strictObject({
  timeout: duration.optional().describe('How long to wait for everything to be healthy (default 120s).'),
  interval: duration.optional().describe('Time between two HTTP probes (default 2s); container states are read every 250 ms, or every interval when shorter.'),
  http: z.array(httpProbe).optional().describe('HTTP probes that must answer after the containers are healthy.'),
})

/** SPEC §10: a registry as docker names it in an image reference: host[:port] and an optional path, no scheme. */
export const REGISTRY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/


// --- Preview environments (SPEC §11): the keys of an environment pattern, kept in one block ---

/**
 * An environment name with one `*` is a pattern (`preview-*`): a concrete name puts one or more lowercase letters,
 * digits or "-" where the `*` is, and must still be a valid name (NAME_PATTERN), so a pattern is written as a
 * name would be, with one `*` somewhere after its first letter (or first of all).
 */
export const ENVIRONMENT_KEY_PATTERN = /^(?=.{1,31}$)(?:[a-z][a-z0-9-]*)?(?:\*[a-z0-9-]*)?$/
const environmentKey = z
  .string()
  .regex(ENVIRONMENT_KEY_PATTERN, `${NAME_RULE}; or a pattern of preview environments with one "*" in it, like preview-*`)

/** A port range written "41000-41999" (both ends included). */
export const PORT_RANGE_PATTERN = /^(\d{1,5})-(\d{1,5})$/
const PORT_RANGE_MESSAGE = 'expected a port range like 41000-41999 (ports from 1024 to 65535, the first not above the last)'
const portRange = z
  .string({ error: (issue) => (issue.input === undefined ? undefined : PORT_RANGE_MESSAGE) })
  .transform((value, ctx) => {
    const [, first, last] = PORT_RANGE_PATTERN.exec(value) ?? []
    const range = { first: Number(first), last: Number(last) }
    if (first !== undefined && range.first >= 1024 && range.last <= 65535 && range.first <= range.last) return range
    ctx.addIssue({ code: 'custom', message: PORT_RANGE_MESSAGE })
    return z.NEVER
  })
  .meta({ pattern: PORT_RANGE_PATTERN.source })

/** Only on a pattern (load.ts checks it): how each preview made from it starts, expires and gets its ports. */
const previewKeys = {
  env_template: path
    .optional()
    .describe(
      'Pattern only (and required there): the file, relative to deploy.yml, each preview\'s env file is written from when it is first deployed, ' +
        'with ${BERTH_ENV} (its name), ${BERTH_APP} and ${BERTH_PORT_1}, ${BERTH_PORT_2}… (host ports berth allocates from ports:) filled in.',
    ),
  ttl: duration
    .optional()
    .describe('Pattern only: a preview expires this long after its last deploy (like 3d, 12h), and berth prune --expired takes it down. Default: never.'),
  ports: portRange
    .optional()
    .describe(
      'Pattern only: the host ports ${BERTH_PORT_n} are allocated from, like 41000-41999; each preview keeps its own, never one another ' +
        'environment has or anything on the host uses. Required when env_template uses ${BERTH_PORT_n}.',
    ),
}

// --- hooks (SPEC §11) ---------------------------------------------------------------------------------------------

const HOOK_MESSAGE = 'expected a command, or a mapping with run: (and timeout:, pass:)'
const hookCommand = z.string().min(1, 'expected a command').describe('A shell command (sh -c), run in the directory of deploy.yml.')

/**
 * A command, or { run, timeout, pass }. A union reports only that no branch fitted, so for a mapping the
 * message says what is wrong inside it (`timeout: expected a duration like "90s"`).
 */
const hook = z.union(
  [
    hookCommand,
    z.strictObject({
      run: hookCommand,
      timeout: duration.optional().describe('How long the hook may run before it is killed with its process group (default 5m).'),
      pass: envVarNames.optional().describe('Variables of the env file the hook gets; it gets none of them otherwise.'),
    }),
  ],
  {
    error: (issue) => {
      const input = issue.input
      if (issue.code !== 'invalid_union' || typeof input !== 'object' || input === null || Array.isArray(input)) return HOOK_MESSAGE
      const inner = issue.errors[1]?.[0]
      return inner ? `${formatPath(inner.path.filter((key) => typeof key !== 'symbol'))}: ${inner.message}` : HOOK_MESSAGE
    },
  },
)

const HOOK_DESCRIPTIONS: Record<(typeof HOOK_NAMES)[number], string> = {
  pre_deploy: 'Runs under the lock before a deploy changes anything; a failure refuses the deploy (exit 2).',
  post_deploy: 'Runs after a healthy deploy; a failure is reported and audited, the release stays (exit 0).',
  pre_rollback: 'Runs under the lock before a rollback changes anything; a failure refuses the rollback (exit 2).',
  post_rollback: 'Runs after a rollback; a failure is reported and audited, the rollback stays (exit 0).',
  on_failure: 'Runs after a deploy or rollback failed (after the automatic rollback), with BERTH_RESULT and BERTH_REASON.',
}

/** Top level: every hook of every environment; `null` is not needed there. */
const topLevelHooks = z
  .strictObject(Object.fromEntries(HOOK_NAMES.map((name) => [name, hook.optional().describe(HOOK_DESCRIPTIONS[name])])) as Record<(typeof HOOK_NAMES)[number], z.ZodOptional<typeof hook>>)
  .describe('Commands run on the operator\'s machine around every deploy and rollback (SPEC §11).')

/** An environment's hooks replace the top level's key by key; `null` turns an inherited hook off. */
const environmentHooks = z
  .strictObject(Object.fromEntries(HOOK_NAMES.map((name) => [name, hook.nullable().optional().describe(`${HOOK_DESCRIPTIONS[name]} null turns the top level's off.`)])) as Record<(typeof HOOK_NAMES)[number], z.ZodOptional<z.ZodNullable<typeof hook>>>)
  .describe('Overrides the top-level hooks, key by key (null turns one off).')
// --- end hooks ----------------------------------------------------------------------------------------------------
// ---- notify: webhooks (SPEC §11) ----

/** What a deploy or rollback ended with, as its exit code says (SPEC §4): 0, 1/2/5/6, 3, 4. */
export const RUN_RESULTS = ['ok', 'failed', 'rolled-back', 'needs-person'] as const

const webhook = z.strictObject({
  url: z
    .string()
    // The whole URL may come from the env file (`${SLACK_WEBHOOK_URL}`); it is checked again once filled in.
    .regex(/^(https?:\/\/|\$\{)/, 'expected an http:// or https:// URL, or ${VAR} naming one in the env file')
    .describe(
      'Where the JSON is POSTed. ${VAR} is taken from the environment\'s env file (keep tokens there, not in deploy.yml); ' +
        'the URL, as written and filled in, counts as a secret in every output.',
    ),
  on: z
    .array(z.enum(RUN_RESULTS, { error: `expected one of ${RUN_RESULTS.join(', ')}` }))
    .min(1, 'expected at least one of ok, failed, rolled-back, needs-person (leave on: out for all)')
    .default([...RUN_RESULTS])
    .describe('The results that are posted (default: all): ok, failed, rolled-back (exit 3), needs-person (exit 4).'),
})

const notify = z
  .array(webhook)
  .describe(
    'Webhooks POSTed at the end of every deploy and rollback that took the lock: JSON {action, app, env, release, previous, result, duration, who, host, reason}; ' +
      'retried, bounded to a few seconds, never changing the exit code.',
  )

// ---- end of notify ----

const environment = z.strictObject({
  host: z
    .string()
    .regex(SSH_URL_PATTERN, 'expected ssh://[user@]host[:port], like ssh://deploy@10.0.0.5')
    .optional()
    .describe(
      'The engine of this environment, on another host, over SSH: every docker and compose call, probe and the edge go through one SSH ' +
        'connection per run; the lock, releases, resolved configs and audit log live on that host (/var/lib/berth/<app>/<env>/).',
    ),
  context: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, 'expected the name of a Docker context (docker context ls)')
    .optional()
    .describe('The engine of this environment as a Docker context (docker context ls); an ssh:// context is reached as host: is. Not with host:.'),
  connect_timeout: duration.optional().describe('How long connecting to host: (or an ssh:// context) may take before berth gives up with exit 6 (default 10s).'),
  target: z
    .enum(['compose', 'swarm'], { error: 'expected compose or swarm' })
    .default('compose')
    .describe(
      'compose (default): the environment is a compose project on its engine. swarm: it is deployed as the Swarm stack <app>-<env> ' +
        '(the engine must be a swarm manager), its images pushed to registry: and pinned by digest.',
    ),
  registry: z
    .string()
    .regex(REGISTRY_PATTERN, 'expected a registry host[:port][/path], like registry.internal:5000 (no scheme)')
    .optional()
    .describe(
      'target: swarm only: where release images are pushed, as that engine sees it (images <registry>/<app>-<service>:<tag>). ' +
        'Needed when a service has build:.',
    ),
  registry_login: z
    .strictObject({
      username: z.string().regex(ENV_VAR_PATTERN, 'expected a variable name like REGISTRY_USER'),
      password: z.string().regex(ENV_VAR_PATTERN, 'expected a variable name like REGISTRY_PASSWORD'),
    })
    .optional()
    .describe(
      'target: swarm only: the env file variables holding the registry\'s user name and password (the password listed under secrets:). ' +
        'berth logs in with docker login --password-stdin before each deploy or rollback; without it, the operator\'s own docker login is used.',
    ),
  env_file: path.optional().describe('Env file of this environment, relative to deploy.yml (default environments/<env>.env).'),
  compose: files.optional().describe('Compose files appended after the top-level ones.'),
  required: envVarNames.optional().describe('Variables that must be set and non-empty in the env file.'),
  secrets: envVarNames
    .optional()
    .describe('Variables whose values are masked in output, besides those named like *SECRET*, *PASSWORD*, *TOKEN*, *KEY*…'),
  health: health.optional().describe('Overrides the top-level health settings, key by key.'),
  confirm: z
    .boolean()
    .default(false)
    .describe('deploy, rollback and down ask for confirmation, or need --yes without a TTY.'),
  keep: keep.optional().describe('Releases kept for this environment (overrides releases.keep).'),
  shared_networks: z
    .array(z.string().min(1, 'expected a network name'))
    .optional()
    .describe(
      'Networks shared with other environments (external ones), by the name the engine knows them by (docker network ls), on ' +
        'which this environment\'s services may answer to the same names as theirs. Without it, a deploy that would make a ' +
        'second answer to one name on one shared network is refused.',
    ),
  strategy: z
    .enum(['recreate', 'blue-green'], { error: 'expected recreate or blue-green' })
    .default('recreate')
    .describe(
      'recreate (default): compose updates the containers in place. blue-green: a second copy of the stateless ' +
        'services starts beside the live one and the edge proxy switches the routes once it is healthy.',
    ),
  // routes, stateful and drain stay undefined when absent, so that load.ts can tell they were given to a recreate environment.
  stateful: z
    .array(service)
    .optional()
    .describe('blue-green only: services shared by both colours, run once in <app>-<env> (databases, queues; default none).'),
  routes: z
    .array(route)
    .optional()
    .describe('blue-green only (and required there): host ports the edge proxy routes to the live colour.'),
  drain: durationSchema({ allowZero: true })
    .optional()
    .describe('blue-green only: how long the old colour keeps serving in-flight requests before it is stopped (default 10s; 0s allowed).'),
  watch: durationSchema({ allowZero: true })
    .optional()
    .describe(
      'blue-green only: after the switch, how long deploy stays and watches the new colour (its containers, and the health.http ' +
        'probes through the edge); a failure in that window switches back to the previous colour by itself (exit 3). Default 0s.',
    ),
  idle: z
    .enum(['running', 'stopped'], { error: 'expected running or stopped' })
    .optional()
    .describe(
      'blue-green only: what the previous colour does after a switch. running (default): its routed services keep running, ' +
        'so a rollback to it is a switch; its other services (workers) are stopped. stopped: all of it is stopped, as before.',
    ),
  ...previewKeys,
  hooks: environmentHooks.optional(),
  notify: notify.optional().describe('Webhooks of this environment: replace the top-level notify: list ([] for none).'),
})

const edge = z
  .strictObject({
    image: z
      .string()
      .min(1, 'expected an image reference')
      .default(DEFAULT_EDGE.image)
      .describe('Image of the edge proxy: any Caddy 2 image with caddy on its PATH, whatever its ENTRYPOINT (default caddy:2).'),
  })
  .default({ image: DEFAULT_EDGE.image })

/** An IPv4 network in CIDR notation, like 10.240.0.0/12. */
const CIDR_PATTERN = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/

const networkPool = z
  .strictObject({
    base: z.string().regex(CIDR_PATTERN, 'expected an IPv4 network like 10.240.0.0/12').describe('The range the subnets are taken from.'),
    size: z
      .int('expected a prefix length from 16 to 29')
      .min(16, 'expected a prefix length from 16 to 29')
      .max(29, 'expected a prefix length from 16 to 29')
      .default(26)
      .describe('Prefix length of each network\'s subnet (default 26: 64 addresses, 61 containers).'),
  })
  .refine((pool) => !CIDR_PATTERN.test(pool.base) || Number(pool.base.split('/')[1]) <= pool.size, {
    path: ['size'],
    message: 'must be at least the prefix length of base (a subnet fits inside the range)',
  })
  .describe(
    "Gives each network berth's environments create a subnet of its own from this range, instead of the engine's default " +
      "address pools (which stop a host at about 30 networks). Pick a range no route of the host and none of the engine's pools use: berth doctor checks.",
  )

export const deployFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors.'),
    app: name.describe('Application name; each environment runs as compose project <app>-<env>.'),
    compose: files.optional().describe('Compose files (default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml beside deploy.yml).'),
    health: health.optional().describe('Health gate of every environment, unless the environment overrides it.'),
    releases: z
      .strictObject({ keep: keep.default(5).describe('Releases (and their images) kept per environment.') })
      .default({ keep: 5 }),
    edge: edge.describe('The edge proxy of blue-green environments: one per host (compose project berth-edge), shared by every app.'),
    state_dir: path.optional().describe('Directory of berth\'s state, relative to deploy.yml (default .berth).'),
    network_pool: networkPool.optional(),
    hooks: topLevelHooks.optional(),
    notify: notify.optional().describe('Webhooks of every environment that has no notify: of its own.'),
    environments: z
      .record(
        environmentKey,
        environment
          .nullable()
          // `preview:` with nothing under it is an environment that takes every default.
          .transform((body) => body ?? environment.parse({}))
          .describe('An environment, by name.'),
      )
      .refine((environments) => Object.keys(environments).length > 0, 'define at least one environment')
      .meta({ minProperties: 1, description: 'Environments deployed side by side on this host, by name; a name with a * (preview-*) is a pattern of preview environments.' }),
  })
  .meta({ title: 'berth deploy.yml', description: 'Environments of one compose application, deployed side by side by berth.' })

export type DeployFile = z.output<typeof deployFileSchema>

export type Validation = { ok: true; value: DeployFile } | { ok: false; issues: SchemaIssue[] }

/** Validates parsed deploy.yml. Messages are phrased for operators, and each unknown key is its own issue. */
export function validateDeployFile(data: unknown): Validation {
  const result = deployFileSchema.safeParse(data, { error: describeIssue })
  if (result.success) return { ok: true, value: result.data }
  return { ok: false, issues: schemaIssues(result.error) }
}
