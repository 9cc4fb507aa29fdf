import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { appNameFrom, composeVariables, deployYml, envExample, init, mergeGitignore, PROJECT_SCHEMA, schemaReference } from '../../../src/config/init.js'
import { loadConfig } from '../../../src/config/load.js'
import { ExitCode, UsageError } from '../../../src/errors.js'
import { formatInit } from '../../../src/ui/results.js'

let dir: string
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'berth-init-')), 'shop')
  await mkdir(dir)
})
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true })
})

describe('appNameFrom', () => {
  it.each([
    ['shop', 'shop'],
    ['My Shop_2', 'my-shop-2'],
    ['2fast.io', 'fast-io'],
    ['--weird--', 'weird'],
    ['Ünïcode', 'n-code'],
    ['a'.repeat(40), 'a'.repeat(31)],
    ['x'.repeat(30) + '-y', 'x'.repeat(30)],
    ['___', 'app'],
    ['', 'app'],
  ])('%j → %j', (input, expected) => {
    expect(appNameFrom(input)).toBe(expected)
    expect(expected).toMatch(/^[a-z][a-z0-9-]{0,30}$/)
  })
})

describe('schemaReference', () => {
  const only = (...paths: string[]) => (path: string) => paths.includes(path)

  it("is where the package ships its schema, under the package's name", () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { name: string; files: string[] }
    expect(PROJECT_SCHEMA).toBe(join('node_modules', pkg.name, 'schema', 'deploy.schema.json'))
    expect(pkg.files).toContain('schema')
    expect(existsSync(fileURLToPath(new URL('../../../schema/deploy.schema.json', import.meta.url)))).toBe(true)
  })

  it("is relative to deploy.yml when berth is the project's dev dependency, beside it or above it in the checkout", () => {
    expect(schemaReference('/srv/shop', only('/srv/shop/node_modules/berth/schema/deploy.schema.json'))).toBe('./node_modules/berth/schema/deploy.schema.json')
    expect(schemaReference('/srv/shop/deploy', only('/srv/shop/.git', '/srv/shop/node_modules/berth/schema/deploy.schema.json'))).toBe('../node_modules/berth/schema/deploy.schema.json')
  })

  it("is none when the project has no berth of its own: not above the checkout's top, never an absolute path", () => {
    expect(schemaReference('/srv/shop', only())).toBeUndefined()
    expect(schemaReference('/srv/shop', only('/srv/.git', '/node_modules/berth/schema/deploy.schema.json'))).toBeUndefined()
    expect(schemaReference('/srv/shop/app', only('/srv/shop/.git', '/srv/node_modules/berth/schema/deploy.schema.json'))).toBeUndefined()
  })
})

describe('composeVariables', () => {
  it('lists the interpolated variables once, in order, ignoring $$ escapes', () => {
    const text = 'ports: ["${WEB_PORT:?set it}:80"]\nenv: { A: $DATABASE_URL, B: "${JWT_SECRET_KEY:-x}", C: "$$HOME", D: "$${NOT}", E: ${WEB_PORT} }'
    expect(composeVariables(text)).toEqual(['WEB_PORT', 'DATABASE_URL', 'JWT_SECRET_KEY'])
  })
})

describe('deployYml', () => {
  const text = deployYml({ app: 'shop', schema: '/opt/berth/schema/deploy.schema.json', compose: 'docker-compose.yml', variables: ['WEB_PORT', 'DATABASE_URL'] })

  it('starts with the modeline editors read', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=/opt/berth/schema/deploy.schema.json')
  })

  it('loads with loadConfig: staging and production with their env files, production asking first', async () => {
    await writeFile(join(dir, 'docker-compose.yml'), 'services: {}\n')
    await writeFile(join(dir, 'deploy.yml'), text)
    const config = await loadConfig({ cwd: dir, env: {} })
    expect(config.app).toBe('shop')
    expect(config.stateDir).toBe(join(dir, '.berth'))
    expect([...config.environments.keys()]).toEqual(['staging', 'production'])
    expect(config.environments.get('staging')).toMatchObject({ project: 'shop-staging', envFile: join(dir, 'environments', 'staging.env'), composeFiles: [join(dir, 'docker-compose.yml')], confirm: false, keep: 5 })
    expect(config.environments.get('production')).toMatchObject({ project: 'shop-production', envFile: join(dir, 'environments', 'production.env'), confirm: true })
  })

  it("suggests the compose file's variables as required", () => {
    expect(text).toContain('# required: [WEB_PORT, DATABASE_URL]')
  })

  it('quotes a compose file name YAML would misread', () => {
    expect(deployYml({ app: 'shop', schema: 's', compose: 'my compose: x.yaml', variables: [] })).toContain('compose: ["my compose: x.yaml"]')
  })
})

describe('envExample', () => {
  it('names the file to copy it to and lists the variables to fill', () => {
    const text = envExample('staging', ['WEB_PORT', 'JWT_SECRET_KEY'])
    expect(text).toMatch(/^# Copy to environments\/staging\.env /)
    expect(text.endsWith('WEB_PORT=\nJWT_SECRET_KEY=\n')).toBe(true)
    expect(envExample('production', [])).toContain('# NAME=value\n')
  })
})

describe('mergeGitignore', () => {
  it('writes all three entries into a new .gitignore', () => {
    expect(mergeGitignore(undefined)).toEqual({
      text: '# berth: state (resolved configs hold secrets) and env files\n.berth/\nenvironments/*.env\n!environments/*.env.example\n',
      added: ['.berth/', 'environments/*.env', '!environments/*.env.example'],
    })
  })

  it('appends only what is missing, after a blank line, keeping the file as it was', () => {
    const merged = mergeGitignore('node_modules/\n/.berth\n')
    expect(merged?.added).toEqual(['environments/*.env', '!environments/*.env.example'])
    expect(merged?.text).toBe('node_modules/\n/.berth\n\n# berth: state (resolved configs hold secrets) and env files\nenvironments/*.env\n!environments/*.env.example\n')
  })

  it('ends an unterminated last line first', () => {
    expect(mergeGitignore('dist')?.text.startsWith('dist\n\n# berth')).toBe(true)
  })

  it('changes nothing when every entry is there', () => {
    expect(mergeGitignore('.berth/\r\nenvironments/*.env\r\n!environments/*.env.example\r\n')).toBeUndefined()
  })
})

describe('init', () => {
  const files = () => [join(dir, 'deploy.yml'), join(dir, 'environments', 'staging.env.example'), join(dir, 'environments', 'production.env.example')]

  it('writes deploy.yml, the examples and the .gitignore entries, the app named after the directory', async () => {
    await writeFile(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx\n    ports: ["${WEB_PORT}:80"]\n')
    const result = await init({ configFile: join(dir, 'deploy.yml'), force: false })
    expect(result).toEqual({
      app: 'shop',
      written: files(),
      gitignore: { file: join(dir, '.gitignore'), added: ['.berth/', 'environments/*.env', '!environments/*.env.example'] },
      compose: { file: join(dir, 'compose.yaml'), exists: true },
    })
    expect(await readFile(join(dir, 'environments', 'staging.env.example'), 'utf8')).toContain('\nWEB_PORT=\n')
    expect((await loadConfig({ cwd: dir, env: {} })).app).toBe('shop')
  })

  it('takes --app, and refuses an invalid one with exit 2', async () => {
    expect((await init({ configFile: join(dir, 'deploy.yml'), app: 'store-front', force: false })).app).toBe('store-front')
    const error = await init({ configFile: join(dir, 'other.yml'), app: 'Store', force: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exitCode).toBe(ExitCode.usage)
  })

  it('refuses, naming the file and writing nothing, when one of its files exists', async () => {
    await mkdir(join(dir, 'environments'))
    await writeFile(join(dir, 'environments', 'production.env.example'), 'MINE=1\n')
    const error = await init({ configFile: join(dir, 'deploy.yml'), force: false }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INIT_EXISTS', exitCode: 2 })
    expect((error as Error).message).toContain(join(dir, 'environments', 'production.env.example'))
    expect(existsSync(join(dir, 'deploy.yml'))).toBe(false)
    expect(existsSync(join(dir, '.gitignore'))).toBe(false)
    expect(await readFile(join(dir, 'environments', 'production.env.example'), 'utf8')).toBe('MINE=1\n')
  })

  it('overwrites with --force without duplicating .gitignore entries', async () => {
    await writeFile(join(dir, '.gitignore'), 'node_modules/\n')
    await init({ configFile: join(dir, 'deploy.yml'), force: false })
    await writeFile(join(dir, 'deploy.yml'), 'app: edited\n')
    const again = await init({ configFile: join(dir, 'deploy.yml'), force: true })
    expect(again.gitignore.added).toEqual([])
    expect(await readFile(join(dir, 'deploy.yml'), 'utf8')).toContain('app: shop\n')
    const gitignore = await readFile(join(dir, '.gitignore'), 'utf8')
    expect(gitignore.match(/^\.berth\/$/gm)).toHaveLength(1)
    expect(gitignore.startsWith('node_modules/\n')).toBe(true)
  })

  it("names the project's own berth schema relative to deploy.yml, so the line travels with the repository", async () => {
    await mkdir(join(dir, 'node_modules', 'berth', 'schema'), { recursive: true })
    await writeFile(join(dir, 'node_modules', 'berth', 'schema', 'deploy.schema.json'), '{}')
    const result = await init({ configFile: join(dir, 'deploy.yml'), force: false })
    expect(result.schema).toBe('./node_modules/berth/schema/deploy.schema.json')
    expect((await readFile(join(dir, 'deploy.yml'), 'utf8')).split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/berth/schema/deploy.schema.json')
  })

  it('writes no $schema line without a berth in the project, and says how to get one', async () => {
    await writeFile(join(dir, 'compose.yaml'), 'services: {}\n')
    const result = await init({ configFile: join(dir, 'deploy.yml'), force: false })
    expect(result.schema).toBeUndefined()
    const text = await readFile(join(dir, 'deploy.yml'), 'utf8')
    expect(text).not.toMatch(/^#\s*yaml-language-server:/m)
    expect(text).toContain('npm install --save-dev berth')
    expect(formatInit(result)).toContain('deploy.yml names no $schema')
    expect((await loadConfig({ cwd: dir, env: {} })).app).toBe('shop')
  })

  it('notes a compose file that does not exist yet', async () => {
    const result = await init({ configFile: join(dir, 'deploy.yml'), force: false })
    expect(result.compose).toEqual({ file: join(dir, 'compose.yaml'), exists: false })
  })
})
