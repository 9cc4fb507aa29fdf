import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { loadConfig, selectEnvironment } from '../../../src/config/load.js'
import { BerthError } from '../../../src/errors.js'

let dir: string

const DEPLOY = `app: shop
environments:
  staging: {}
  preview-*:
    env_template: environments/preview.env.template
    ttl: 3d
    ports: 41000-41099
    health: { timeout: 30s }
`

async function write(deployYml: string, template = 'APP_ENV=${BERTH_ENV}\nWEB_PORT=${BERTH_PORT_1}\nADMIN_PORT=${BERTH_PORT_2}\n'): Promise<void> {
  await writeFile(join(dir, 'deploy.yml'), deployYml)
  await writeFile(join(dir, 'environments', 'preview.env.template'), template)
}

async function failure(deployYml: string, template?: string): Promise<string> {
  await write(deployYml, template)
  const error = await loadConfig({ cwd: dir, env: {} }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(BerthError)
  expect((error as BerthError).exitCode).toBe(2)
  return (error as BerthError).message
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-patterns-'))
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx\n')
  await mkdir(join(dir, 'environments'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('loadConfig: preview patterns (SPEC §11)', () => {
  it('keeps a pattern apart from the environments, and makes the environment of a matching name for deploy only', async () => {
    await write(DEPLOY)
    const config = await loadConfig({ cwd: dir, env: {} })
    expect([...config.environments.keys()]).toEqual(['staging'])
    expect(config.patterns?.map((p) => p.pattern)).toEqual(['preview-*'])
    const env = selectEnvironment(config, 'preview-42', { fromPattern: true })
    expect(env).toMatchObject({
      name: 'preview-42',
      project: 'shop-preview-42',
      envFile: join(dir, 'environments', 'preview-42.env'),
      health: { timeoutMs: 30_000 },
      preview: { pattern: 'preview-*', template: join(dir, 'environments', 'preview.env.template'), portCount: 2, ports: { first: 41000, last: 41099 }, ttlMs: 3 * 86_400_000 },
    })
  })

  it('refuses a preview that was never deployed for every other command, saying how to make it; an unmatched name as before', async () => {
    await write(DEPLOY)
    const config = await loadConfig({ cwd: dir, env: {} })
    expect(() => selectEnvironment(config, 'preview-42')).toThrow(/unknown environment "preview-42"/)
    const error = (() => {
      try {
        selectEnvironment(config, 'preview-42')
      } catch (e) {
        return e as BerthError
      }
    })()
    expect(error?.code).toBe('UNKNOWN_ENVIRONMENT')
    expect(error?.hint).toContain('berth deploy preview-42')
    expect(() => selectEnvironment(config, 'feature-1', { fromPattern: true })).toThrow(/unknown environment "feature-1"; deploy.yml defines: staging, preview-\* \(pattern\)/)
  })

  it('knows the previews that have a record in the state directory, and only those', async () => {
    await write(DEPLOY)
    for (const name of ['preview-2', 'preview-1', 'preview-9', 'other-1']) await mkdir(join(dir, '.berth', name), { recursive: true })
    for (const name of ['preview-2', 'preview-1', 'other-1']) await writeFile(join(dir, '.berth', name, 'preview.json'), '{}')
    const config = await loadConfig({ cwd: dir, env: {} })
    expect([...config.environments.keys()]).toEqual(['staging', 'preview-1', 'preview-2'])
    expect(selectEnvironment(config, 'preview-1').preview?.pattern).toBe('preview-*')
    expect(() => selectEnvironment(config, 'preview-9')).toThrow(/unknown environment/)
  })

  it("gives each preview its own env file from a pattern's env_file with a *", async () => {
    await write(DEPLOY.replace('    ttl: 3d\n', '    ttl: 3d\n    env_file: env/pr-*.env\n'))
    const config = await loadConfig({ cwd: dir, env: {} })
    expect(selectEnvironment(config, 'preview-7', { fromPattern: true }).envFile).toBe(join(dir, 'env', 'pr-7.env'))
  })

  it('refuses a name that two patterns match', async () => {
    await write(DEPLOY.replace('  staging: {}\n', '  staging: {}\n  pre*:\n    env_template: environments/preview.env.template\n    ports: 42000-42009\n'))
    const config = await loadConfig({ cwd: dir, env: {} })
    expect(() => selectEnvironment(config, 'preview-1', { fromPattern: true })).toThrow(/matches more than one pattern of deploy.yml: pre\*, preview-\*/)
  })

  it.each([
    ['a pattern key on a literal environment', DEPLOY.replace('  staging: {}\n', '  staging:\n    ttl: 1d\n'), 'environments.staging.ttl: only on an environment pattern'],
    ['a pattern without a template', DEPLOY.replace('    env_template: environments/preview.env.template\n', ''), 'environments.preview-*.env_template: a pattern needs the template'],
    ['a missing template', DEPLOY.replace('preview.env.template', 'gone.template'), 'gone.template does not exist'],
    ['ports without a range', DEPLOY.replace('    ports: 41000-41099\n', ''), 'environments.preview-*.ports:'],
    ['a range too small', DEPLOY.replace('41000-41099', '41000-41000'), 'environments.preview-*.ports: has 1 ports, fewer than the 2'],
    ['a range upside down', DEPLOY.replace('41000-41099', '41099-41000'), 'environments.preview-*.ports: expected a port range like 41000-41999'],
    ['a pattern on another host', DEPLOY.replace('    ttl: 3d\n', '    ttl: 3d\n    host: ssh://deploy@10.0.0.5\n'), 'environments.preview-*.host: previews run on the local engine'],
    ['a shared env_file', DEPLOY.replace('    ttl: 3d\n', '    ttl: 3d\n    env_file: env/preview.env\n'), "environments.preview-*.env_file: a pattern's env_file needs one *"],
    ['a bad ttl', DEPLOY.replace('ttl: 3d', 'ttl: 3 days'), 'environments.preview-*.ttl: expected a duration like "90s"'],
    ['a pattern with two stars', DEPLOY.replace('preview-*:', 'preview-*-*:'), 'environments.preview-*-*: must match'],
  ])('refuses %s', async (_what, deployYml, message) => {
    expect(await failure(deployYml)).toContain(message)
  })

  it('refuses a template with a BERTH_ variable berth does not fill', async () => {
    expect(await failure(DEPLOY, 'A=${BERTH_PORT_1}\nB=${BERTH_NAME}\n')).toContain('uses ${BERTH_NAME}, which berth does not fill')
  })
})
