import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, UsageError } from '../../../src/errors.js'
import { loadConfig, selectEnvironment } from '../../../src/config/load.js'

const fixtures = fileURLToPath(new URL('../../fixtures/config', import.meta.url))
const bad = join(fixtures, 'bad')
const good = join(fixtures, 'good')

async function loadError(file: string): Promise<ConfigError> {
  const error: unknown = await loadConfig({ file, cwd: bad, env: {} }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

describe('loadConfig: invalid deploy.yml', () => {
  const ADMIN_PORT_RETIRED =
    "no longer used: berth reaches the edge's admin API on a unix socket only root can open (<edge dir>/admin/admin.sock), not on a TCP port; remove the key"
  const NAME_RULE = 'must match ^[a-z][a-z0-9-]{0,30}$ (a lowercase letter, then up to 30 lowercase letters, digits or "-")'

  it.each([
    ['unknown-top-key.yml', 'unknown-top-key.yml:3 helth: unknown key'],
    ['unknown-env-key.yml', 'unknown-env-key.yml:4 environments.staging.envfile: unknown key'],
    ['bad-app-name.yml', `bad-app-name.yml:1 app: ${NAME_RULE}`],
    ['missing-app.yml', 'missing-app.yml:2 app: is required'],
    ['missing-environments.yml', 'missing-environments.yml:1 environments: is required'],
    ['empty-environments.yml', 'empty-environments.yml:2 environments: define at least one environment'],
    ['bad-env-name.yml', `bad-env-name.yml:4 environments.Prod: ${NAME_RULE}; or a pattern of preview environments with one "*" in it, like preview-*`],
    ['bad-duration.yml', 'bad-duration.yml:3 health.timeout: expected a duration like "90s"'],
    ['zero-interval.yml', 'zero-interval.yml:5 environments.staging.health.interval: must be longer than 0s'],
    [
      'bad-keep.yml',
      'bad-keep.yml:3 releases.keep: must be at least 1\nbad-keep.yml:6 environments.staging.keep: expected a whole number',
    ],
    ['bad-compose-type.yml', 'bad-compose-type.yml:2 compose: expected a file name or a list of file names'],
    ['missing-compose-file.yml', `missing-compose-file.yml:4 compose[1]: ${join(bad, 'compose.prod.yaml')} does not exist`],
    [
      'missing-env-compose-file.yml',
      `missing-env-compose-file.yml:4 environments.staging.compose: ${join(bad, 'compose.staging.yaml')} does not exist\n` +
        `missing-env-compose-file.yml:6 environments.production.compose[1]: ${join(bad, 'compose.production.yaml')} does not exist`,
    ],
    [
      'bad-probe.yml',
      'bad-probe.yml:4 health.http[0].url: expected an http:// or https:// URL\n' +
        'bad-probe.yml:5 health.http[0].status: expected an HTTP status code\n' +
        'bad-probe.yml:6 health.http[1].url: is required',
    ],
    [
      'bad-notify.yml',
      'bad-notify.yml:3 notify[0].url: expected an http:// or https:// URL, or ${VAR} naming one in the env file\n' +
        'bad-notify.yml:5 notify[1].on[1]: expected one of ok, failed, rolled-back, needs-person\n' +
        'bad-notify.yml:7 notify[2].on: expected at least one of ok, failed, rolled-back, needs-person (leave on: out for all)\n' +
        'bad-notify.yml:8 notify[3].url: is required\n' +
        'bad-notify.yml:13 environments.staging.notify[0].when: unknown key',
    ],
    [
      'bad-required.yml',
      'bad-required.yml:4 environments.production.required[1]: expected a variable name like DATABASE_URL\n' +
        'bad-required.yml:5 environments.production.secrets: expected a list, got string',
    ],
    // YAML 1.2: yes is a string, not a boolean.
    ['confirm-yes.yml', 'confirm-yes.yml:4 environments.production.confirm: expected true or false, got string'],
    ['env-not-mapping.yml', 'env-not-mapping.yml:3 environments.staging: expected a mapping, got a list'],
    ['not-a-mapping.yml', 'not-a-mapping.yml:1 expected a mapping, got a list'],
    ['syntax-error.yml', 'syntax-error.yml:5 Flow map in block collection must be sufficiently indented and end with a }'],
    ['duplicate-key.yml', 'duplicate-key.yml:5 Map keys must be unique'],
    [
      'many-issues.yml',
      'many-issues.yml:2 state_dir: expected a string, got number\n' +
        'many-issues.yml:6 environments.staging.health.timeout: expected a duration like "90s"\n' +
        'many-issues.yml:7 environments.staging.keep: must be at least 1\n' +
        'many-issues.yml:9 environments.preview-1.secret: unknown key',
    ],
    [
      'no-compose/deploy.yml',
      `deploy.yml:1 compose: no compose file in ${join(bad, 'no-compose')} ` +
        '(looked for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml)',
    ],
    ['spec-example/deploy.yml', 'deploy.yml:14 environments.staging.health.timeout: expected a duration like "90s"'],
    [
      'bg-bad-values.yml',
      'bg-bad-values.yml:3 edge.image: expected an image reference\n' +
        `bg-bad-values.yml:4 edge.admin_port: ${ADMIN_PORT_RETIRED}\n` +
        'bg-bad-values.yml:5 edge.tls: unknown key\n' +
        'bg-bad-values.yml:8 environments.staging.strategy: expected recreate or blue-green\n' +
        'bg-bad-values.yml:9 environments.staging.drain: expected a duration like "90s"\n' +
        'bg-bad-values.yml:12 environments.production.stateful[0]: expected a compose service name\n' +
        'bg-bad-values.yml:14 environments.production.routes[0].listen: expected a port number from 1 to 65535\n' +
        'bg-bad-values.yml:16 environments.production.routes[0].port: expected a port number from 1 to 65535\n' +
        'bg-bad-values.yml:17 environments.production.routes[0].host: expected a host name like shop.example.com\n' +
        'bg-bad-values.yml:18 environments.production.routes[0].path: unknown key\n' +
        'bg-bad-values.yml:19 environments.production.routes[1].listen: is required',
    ],
    [
      'bg-recreate-keys.yml',
      'bg-recreate-keys.yml:4 environments.staging.stateful: only with strategy: blue-green\n' +
        'bg-recreate-keys.yml:5 environments.staging.routes: only with strategy: blue-green\n' +
        'bg-recreate-keys.yml:9 environments.production.routes: only with strategy: blue-green\n' +
        'bg-recreate-keys.yml:10 environments.production.drain: only with strategy: blue-green\n' +
        'bg-recreate-keys.yml:11 environments.production.idle: only with strategy: blue-green\n' +
        'bg-recreate-keys.yml:12 environments.production.watch: only with strategy: blue-green',
    ],
    [
      // Without routes: the line of the environment; with an empty list: the line of routes.
      'bg-no-routes.yml',
      'bg-no-routes.yml:3 environments.staging.routes: a blue-green environment needs at least one route\n' +
        'bg-no-routes.yml:8 environments.production.routes: a blue-green environment needs at least one route',
    ],
    [
      'bg-stateful.yml',
      'bg-stateful.yml:5 environments.production.stateful[2]: db is already listed at stateful[0]\n' +
        'bg-stateful.yml:8 environments.production.routes[0].service: routed service web is stateful: ' +
        'stateful services are shared by both colours and cannot be switched',
    ],
    [
      // staging's 9000 routes are told apart by host; production's A.example is staging's a.example.
      'bg-listen-clash.yml',
      'bg-listen-clash.yml:12 environments.production.routes[0]: listen 8080 is also claimed by environments.staging.routes[0] without a distinct host\n' +
        'bg-listen-clash.yml:13 environments.production.routes[1]: listen 9000 is also claimed by environments.staging.routes[1] with the same host a.example\n' +
        'bg-listen-clash.yml:15 environments.production.routes[3]: listen 9001 is also claimed by environments.production.routes[2] without a distinct host',
    ],
    [
      // SPEC §9 tls: a name for the certificate, HTTPS not on port 80, one kind of server per port, one certificate per name.
      'bg-tls.yml',
      'bg-tls.yml:6 environments.staging.routes[0].tls: tls: internal needs host: a certificate is issued for a name, and a route without host: answers every name (add host:, or remove tls:)\n' +
        'bg-tls.yml:7 environments.staging.routes[1].tls: port 80 is plain HTTP (it carries the redirect to https of listen: 443 routes): use listen: 443, or tls: off\n' +
        'bg-tls.yml:8 environments.staging.routes[2].tls: expected auto, internal or off',
    ],
    [
      // Across environments, which share the edge: production's 8080 route with a host is plain HTTP as staging's catch-all is, but told apart only by host.
      'bg-tls-shared.yml',
      'bg-tls-shared.yml:11 environments.production.routes[0].tls: listen 443 is HTTPS for environments.staging.routes[0], and one port cannot be both: give this route another listen port, or the same tls\n' +
        'bg-tls-shared.yml:12 environments.production.routes[1].tls: host a.example has tls: internal at environments.staging.routes[0]: one name has one certificate on the edge, so give both the same tls\n' +
        'bg-tls-shared.yml:13 environments.production.routes[2]: listen 8080 is also claimed by environments.staging.routes[1] without a distinct host',
    ],
    [
      // An earlier berth's admin port: the edge's admin API is a root-only socket now, and 8080 is free for a route.
      'bg-admin-port.yml',
      `bg-admin-port.yml:3 edge.admin_port: ${ADMIN_PORT_RETIRED}`,
    ],
    [
      // Order in the file does not matter: prod-blue comes before prod.
      'bg-projects.yml',
      'bg-projects.yml:3 environments.prod-blue: compose project berth-prod-blue is also the blue colour of environments.prod; rename one of them\n' +
        'bg-projects.yml:8 environments.prod-green: compose project berth-prod-green is also the green colour of environments.prod; rename one of them\n' +
        "bg-projects.yml:10 environments.edge: compose project berth-edge is the edge proxy's; rename the environment",
    ],
  ])('%s', async (file, message) => {
    const error = await loadError(file)
    expect(error.message).toBe(message)
    expect(error.exitCode).toBe(2)
  })

  it('tells syntax errors from invalid values by code', async () => {
    expect((await loadError('syntax-error.yml')).code).toBe('CONFIG_SYNTAX')
    expect((await loadError('many-issues.yml')).code).toBe('CONFIG_INVALID')
  })
})

describe('loadConfig: finding deploy.yml', () => {
  it('says how to create one when the directory has none', async () => {
    const error = await loadConfig({ cwd: fixtures, env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: `no deploy.yml in ${fixtures}`,
      hint: 'create one with `berth init` or pass --config PATH',
    })
  })

  it('names a --config file that does not exist', async () => {
    await expect(loadConfig({ file: 'nope.yml', cwd: good, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: `${join(good, 'nope.yml')} does not exist`,
    })
  })

  it('prefers --config over BERTH_CONFIG over ./deploy.yml', async () => {
    const viaEnv = await loadConfig({ cwd: fixtures, env: { BERTH_CONFIG: 'good/deploy.yml' } })
    expect(viaEnv.file).toBe(join(good, 'deploy.yml'))

    const viaOption = await loadConfig({ file: 'defaults/deploy.yml', cwd: fixtures, env: { BERTH_CONFIG: 'good/deploy.yml' } })
    expect(viaOption.file).toBe(join(fixtures, 'defaults', 'deploy.yml'))

    const inCwd = await loadConfig({ cwd: good, env: { BERTH_CONFIG: '' } })
    expect(inCwd.file).toBe(join(good, 'deploy.yml'))
  })
})

describe('loadConfig: resolution', () => {
  it('applies the defaults', async () => {
    const dir = join(fixtures, 'defaults')
    const config = await loadConfig({ cwd: dir, env: {} })
    expect(config).toEqual({
      app: 'shop',
      file: join(dir, 'deploy.yml'),
      dir,
      stateDir: join(dir, '.berth'),
      environments: new Map([
        [
          'staging',
          {
            name: 'staging',
            location: { kind: 'shell' },
            target: 'compose',
            project: 'shop-staging',
            envFile: join(dir, 'environments', 'staging.env'),
            // compose.yml comes before docker-compose.yml in the search order.
            composeFiles: [join(dir, 'compose.yml')],
            required: [],
            secrets: [],
            health: { timeoutMs: 120_000, intervalMs: 2_000, http: [] },
            confirm: false,
            keep: 5,
            strategy: 'recreate',
            stateful: [],
            routes: [],
            drainMs: 10_000,
            idle: 'running',
            watchMs: 0,
            sharedNetworks: [],
            hooks: {},
            notify: [],
          },
        ],
      ]),
      edge: { image: 'caddy:2' },
    })
  })

  it('resolves paths from the directory of deploy.yml and overrides health key by key', async () => {
    const config = await loadConfig({ file: join(good, 'deploy.yml'), cwd: '/', env: {} })
    const probe = { url: 'http://127.0.0.1:${WEB_PORT}/health', status: 200, contains: 'ok' }

    expect(config.stateDir).toBe(join(good, 'var', 'berth'))
    expect([...config.environments.keys()]).toEqual(['staging', 'production', 'preview-42'])

    expect(config.environments.get('staging')).toEqual({
      name: 'staging',
      location: { kind: 'shell' },
      target: 'compose',
      project: 'shop-staging',
      envFile: join(good, 'environments', 'staging.env'),
      composeFiles: [join(good, 'compose.yaml'), join(good, 'compose.staging.yaml')],
      required: ['JWT_SECRET_KEY', 'DATABASE_URL'],
      secrets: ['SMTP_URL'],
      health: { timeoutMs: 60_000, intervalMs: 3_000, http: [probe] },
      confirm: false,
      keep: 3,
      strategy: 'recreate',
      stateful: [],
      routes: [],
      drainMs: 10_000,
      idle: 'running',
      watchMs: 0,
      sharedNetworks: [],
      hooks: {},
      notify: [],
    })
    expect(config.environments.get('production')).toMatchObject({
      envFile: join(good, 'secrets', 'production.env'),
      composeFiles: [join(good, 'compose.yaml'), join(good, 'compose.production.yaml')],
      health: { timeoutMs: 90_000, intervalMs: 500, http: [] },
      confirm: true,
      keep: 7,
    })
    // An environment with nothing under it takes every default.
    expect(config.environments.get('preview-42')).toMatchObject({
      project: 'shop-preview-42',
      envFile: join(good, 'environments', 'preview-42.env'),
      composeFiles: [join(good, 'compose.yaml')],
      health: { timeoutMs: 90_000, intervalMs: 3_000, http: [probe] },
      confirm: false,
      keep: 7,
    })
  })
})

describe('loadConfig: blue-green', () => {
  const dir = join(fixtures, 'blue-green')

  it('resolves strategy, stateful services, routes, drain and the edge', async () => {
    const config = await loadConfig({ cwd: dir, env: {} })

    expect(config.edge).toEqual({ image: 'localhost/berth-edge:test' })
    expect(config.environments.get('staging')).toMatchObject({
      strategy: 'blue-green',
      stateful: ['db'],
      // Host headers match case-insensitively, so the host is kept in one spelling.
      routes: [{ listen: 8080, service: 'web', port: 80, host: 'staging.shop.example' }],
      // Unlike health durations, 0s is allowed: stop the old colour right after the switch.
      drainMs: 0,
    })
    const production = config.environments.get('production')
    expect(production).toMatchObject({ strategy: 'blue-green', stateful: ['db', 'queue'], drainMs: 30_000 })
    // A route without host has no host key at all.
    // tls: auto is the default with a host, off without one.
    expect(production?.routes).toStrictEqual([
      { listen: 8080, service: 'web', port: 80, host: 'shop.example', tls: 'auto' },
      { listen: 8081, service: 'api', port: 3000, tls: 'off' },
    ])
    expect(config.environments.get('preview')).toMatchObject({ strategy: 'recreate', stateful: [], routes: [], drainMs: 10_000 })
  })
})

describe('loadConfig: where environments run (SPEC §10)', () => {
  it('reads target: swarm with its registry, and compose without either', async () => {
    const config = await loadConfig({ cwd: join(fixtures, 'hosts'), env: {} })
    expect(config.environments.get('staging')).toMatchObject({ target: 'compose' })
    expect(config.environments.get('staging')).not.toHaveProperty('registry')
    expect(config.environments.get('swarm')).toMatchObject({
      target: 'swarm',
      registry: '127.0.0.1:5000/team',
      registryLogin: { username: 'REGISTRY_USER', password: 'REGISTRY_PASSWORD' },
      strategy: 'recreate',
    })
  })

  it('refuses a registry without target: swarm, blue-green on Swarm, a registry with a scheme and an unknown target', async () => {
    expect((await loadError(join(bad, 'swarm-values.yml'))).message).toBe(
      [
        'swarm-values.yml:5 environments.preview.registry: expected a registry host[:port][/path], like registry.internal:5000 (no scheme)',
        'swarm-values.yml:7 environments.edge.target: expected compose or swarm',
      ].join('\n'),
    )
    const keys = (await loadError(join(bad, 'swarm-keys.yml'))).message
    expect(keys).toContain('swarm-keys.yml:4 environments.staging.registry: only with target: swarm')
    expect(keys).toContain("swarm-keys.yml:7 environments.production.strategy: blue-green is berth's edge for compose projects")
    expect(keys).toContain('swarm-keys.yml:12 environments.preview.registry_login: only with registry:')
    expect(keys).toContain('swarm-keys.yml:16 environments.qa.registry_login.password: list REGISTRY_PASSWORD under secrets: too, so its value is masked in every output')
  })

  it('reads host: as its parts, context: by name, and the shell engine without either', async () => {
    const config = await loadConfig({ cwd: join(fixtures, 'hosts'), env: {} })
    const location = (name: string) => config.environments.get(name)?.location

    expect(location('staging')).toEqual({ kind: 'shell' })
    expect(location('production')).toEqual({ kind: 'ssh', url: 'ssh://deploy@10.0.0.5:2222', user: 'deploy', host: '10.0.0.5', port: 2222, connectTimeoutMs: 5000 })
    // connect_timeout defaults to 10s; without user@ ssh's own default user (or ~/.ssh/config) applies.
    expect(location('eu')).toEqual({ kind: 'ssh', url: 'ssh://prod-eu.internal', host: 'prod-eu.internal', connectTimeoutMs: 10_000 })
    expect(location('v6')).toEqual({ kind: 'ssh', url: 'ssh://root@[fd00::5]', user: 'root', host: 'fd00::5', connectTimeoutMs: 10_000 })
    expect(location('lab')).toEqual({ kind: 'context', name: 'lab-box', connectTimeoutMs: 10_000 })
  })

  it('refuses host: and context: together, a host that is not ssh://, a port out of range, and connect_timeout without a host', async () => {
    expect((await loadError(join(bad, 'host-and-context.yml'))).message).toBe(
      'host-and-context.yml:5 environments.production.context: give host: or context:, not both (they both say where the engine is)',
    )
    expect((await loadError(join(bad, 'bad-host.yml'))).message).toBe(
      'bad-host.yml:4 environments.production.host: expected ssh://[user@]host[:port], like ssh://deploy@10.0.0.5',
    )
    expect((await loadError(join(bad, 'bad-host-port.yml'))).message).toBe(
      'bad-host-port.yml:4 environments.staging.host: port 99999 is not from 1 to 65535\n' +
        'bad-host-port.yml:6 environments.preview.connect_timeout: only with host: or context:',
    )
  })
})

describe('selectEnvironment', () => {
  const NAME_RULE = 'names must match ^[a-z][a-z0-9-]{0,30}$ (a lowercase letter, then up to 30 lowercase letters, digits or "-")'

  it('returns the named environment', async () => {
    const config = await loadConfig({ cwd: good, env: {} })
    expect(selectEnvironment(config, 'production').project).toBe('shop-production')
  })

  it.each(['../x', 'Prod', '', 'a'.repeat(32)])('refuses the name %j before looking it up', async (name) => {
    const config = await loadConfig({ cwd: good, env: {} })
    const error: unknown = (() => {
      try {
        return selectEnvironment(config, name)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(UsageError)
    expect(error).toMatchObject({ code: 'INVALID_ENVIRONMENT', message: `invalid environment name ${JSON.stringify(name)}: ${NAME_RULE}` })
  })

  it('lists the configured environments when the name is unknown', async () => {
    const config = await loadConfig({ cwd: good, env: {} })
    expect(() => selectEnvironment(config, 'prod')).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_ENVIRONMENT',
        message: 'unknown environment "prod"; deploy.yml defines: staging, production, preview-42',
      }),
    )
  })
})

describe('loadConfig: notify (SPEC §11)', () => {
  it("gives every environment the top-level webhooks, unless it has its own (which replace them; [] for none), on: all by default", async () => {
    const config = await loadConfig({ cwd: join(fixtures, 'notify'), env: {} })
    expect(config.environments.get('staging')?.notify).toEqual([
      { url: 'https://chat.example.com/hooks/${CHAT_TOKEN}', on: ['ok', 'failed', 'rolled-back', 'needs-person'] },
      { url: 'http://127.0.0.1:9000/deploys', on: ['failed', 'needs-person'] },
    ])
    expect(config.environments.get('production')?.notify).toEqual([{ url: '${PAGER_URL}', on: ['rolled-back', 'needs-person'] }])
    expect(config.environments.get('preview')?.notify).toEqual([])
  })
})
