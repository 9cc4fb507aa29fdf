import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { configCacheDir, textKey, useConfigCache } from '../../../src/config/cache.js'
import { loadConfig } from '../../../src/config/load.js'
import type { Config } from '../../../src/config/types.js'
import { ConfigError } from '../../../src/errors.js'

let dir: string
let env: NodeJS.ProcessEnv

/** Most of what deploy.yml can say: hooks, webhooks, blue-green routes with TLS, a preview pattern, a remote host, a network pool. */
const DEPLOY = `app: shop
compose: [compose.yaml]
health:
  timeout: 90s
  interval: 500ms
  http:
    - { url: 'http://127.0.0.1:\${WEB_PORT}/health', status: 200, contains: ok }
releases: { keep: 4 }
network_pool: { base: 10.231.0.0/16, size: 24 }
hooks:
  pre_deploy: { run: 'sh hooks/pre.sh', timeout: 2s }
  on_failure: 'echo failed'
notify:
  - url: '\${NOTIFY_URL}'
    on: [failed, rolled-back]
environments:
  staging:
    env_file: env/staging.env
    required: [SECRET_TOKEN]
    secrets: [SMTP_URL]
  production:
    env_file: env/production.env
    strategy: blue-green
    stateful: [store]
    routes:
      - { listen: 19443, host: shop.example.test, tls: internal, service: web, port: 8080 }
    drain: 1s
    idle: stopped
    confirm: true
    hooks: { pre_deploy: null }
  remote:
    host: ssh://deploy@10.0.0.5:2222
    env_file: env/staging.env
  preview-*:
    env_template: env/preview.env.template
    ttl: 3d
    ports: 41000-41099
`

/** A Config as data: its Maps as entries, and each pattern's environment made for one name (functions compare by reference). */
function plain(config: Config): unknown {
  return JSON.parse(
    JSON.stringify(
      { ...config, previews: config.patterns?.map((p) => p.environment(`${p.pattern.replace('*', 'x')}`)) },
      (_key, value: unknown) => (value instanceof Map ? [...value.entries()] : value),
    ),
  )
}

async function entries(): Promise<string[]> {
  return (await readdir(configCacheDir(env)).catch(() => [])).filter((f) => f.endsWith('.json'))
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-cache-'))
  env = { XDG_CACHE_HOME: join(dir, 'cache') }
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx\n  store:\n    image: redis\n')
  await mkdir(join(dir, 'env'))
  await writeFile(join(dir, 'env', 'preview.env.template'), 'APP_ENV=${BERTH_ENV}\nWEB_PORT=${BERTH_PORT_1}\n')
  await writeFile(join(dir, 'deploy.yml'), DEPLOY)
  useConfigCache('build-1')
})
afterEach(async () => {
  useConfigCache(undefined)
  await rm(dir, { recursive: true, force: true })
})

describe('the validated-config cache (issue 15)', () => {
  it('keeps what the schema made of deploy.yml, and a later load takes it as it was', async () => {
    const first = await loadConfig({ cwd: dir, env })
    const [entry] = await entries()
    expect(entry).toMatch(/^[0-9a-f]{16}\.json$/)
    const second = await loadConfig({ cwd: dir, env })
    expect(plain(second)).toEqual(plain(first))

    // The second load read the entry: an edit to it shows (no validation ran).
    const file = join(configCacheDir(env), entry as string)
    const kept = JSON.parse(await readFile(file, 'utf8')) as { build: string; text: string; value: { app: string } }
    expect(kept).toMatchObject({ build: 'build-1', text: DEPLOY })
    await writeFile(file, JSON.stringify({ ...kept, value: { ...kept.value, app: 'fromcache' } }))
    expect((await loadConfig({ cwd: dir, env })).app).toBe('fromcache')

    // An entry of the same name made from another text or by another build is a miss, not a mix-up.
    await writeFile(file, JSON.stringify({ ...kept, text: `${DEPLOY}# another\n`, value: { ...kept.value, app: 'fromcache' } }))
    expect((await loadConfig({ cwd: dir, env })).app).toBe('shop')
    await writeFile(file, JSON.stringify({ ...kept, build: 'build-0', value: { ...kept.value, app: 'fromcache' } }))
    expect((await loadConfig({ cwd: dir, env })).app).toBe('shop')
  })

  it('names an entry by the 64-bit FNV-1a hash of build and text', () => {
    // The reference: the same hash in BigInt arithmetic, over UTF-16 code units.
    const reference = (text: string): string => {
      let h = 0xcbf29ce484222325n
      for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn
      return h.toString(16).padStart(16, '0')
    }
    expect(textKey('')).toBe('cbf29ce484222325')
    expect(textKey('a')).toBe('af63dc4c8601ec8c')
    for (const text of ['build-1\0app: shop\n', DEPLOY, 'ünïcødé ✓ 𝄞', '\uffff'.repeat(100)]) expect(textKey(text)).toBe(reference(text))
  })

  it('is a miss for another text of deploy.yml and for another build', async () => {
    await loadConfig({ cwd: dir, env })
    await writeFile(join(dir, 'deploy.yml'), DEPLOY.replace('keep: 4', 'keep: 5'))
    expect((await loadConfig({ cwd: dir, env })).environments.get('staging')?.keep).toBe(5)
    useConfigCache('build-2')
    await loadConfig({ cwd: dir, env })
    expect(await entries()).toHaveLength(3)
  })

  it('still checks what is outside the text on a hit, and points its message at the line', async () => {
    await loadConfig({ cwd: dir, env })
    await rm(join(dir, 'compose.yaml'))
    const error = await loadConfig({ cwd: dir, env }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe(`deploy.yml:2 compose[0]: ${join(dir, 'compose.yaml')} does not exist`)
  })

  it('keeps nothing of a deploy.yml that does not validate', async () => {
    await writeFile(join(dir, 'deploy.yml'), DEPLOY.replace('keep: 4', 'keep: 0'))
    await expect(loadConfig({ cwd: dir, env })).rejects.toThrow('deploy.yml:8 releases.keep: must be at least 1')
    expect(await entries()).toEqual([])
  })

  it('believes no entry another user could have written, and is off without a build or with BERTH_CONFIG_CACHE=0', async () => {
    await loadConfig({ cwd: dir, env })
    const [entry] = await entries()
    const file = join(configCacheDir(env), entry as string)
    const kept = JSON.parse(await readFile(file, 'utf8')) as { value: { app: string } }
    await writeFile(file, JSON.stringify({ ...kept, value: { ...kept.value, app: 'planted' } }))
    await chmod(file, 0o666)
    expect((await loadConfig({ cwd: dir, env })).app).toBe('shop')

    await rm(configCacheDir(env), { recursive: true })
    await loadConfig({ cwd: dir, env: { ...env, BERTH_CONFIG_CACHE: '0' } })
    useConfigCache(undefined)
    await loadConfig({ cwd: dir, env })
    expect(await entries()).toEqual([])
  })

  it('keeps the newest 32 entries', async () => {
    for (let keep = 1; keep <= 34; keep++) {
      await writeFile(join(dir, 'deploy.yml'), DEPLOY.replace('keep: 4', `keep: ${keep}`))
      await loadConfig({ cwd: dir, env })
    }
    expect(await entries()).toHaveLength(32)
  })
})
