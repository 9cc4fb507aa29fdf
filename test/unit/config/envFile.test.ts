import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { hashEnvFile, interpolate, readEnvFile } from '../../../src/config/envFile.js'
import type { EnvironmentConfig } from '../../../src/config/types.js'
import { ConfigError } from '../../../src/errors.js'
import { clearSecrets, mask } from '../../../src/secrets.js'
import { environmentConfig } from '../fixtures.js'

const envDir = fileURLToPath(new URL('../../fixtures/config/env/', import.meta.url))

function environment(overrides: Partial<EnvironmentConfig>): EnvironmentConfig {
  return { ...environmentConfig('staging', envDir), envFile: join(envDir, 'complete.env'), composeFiles: [], health: { timeoutMs: 120_000, intervalMs: 2_000, http: [] }, ...overrides }
}

beforeEach(() => clearSecrets())

describe('readEnvFile', () => {
  it('reads the values without touching process.env', async () => {
    const values = await readEnvFile(environment({ required: ['JWT_SECRET_KEY', 'DATABASE_URL'] }))
    expect(values).toEqual({
      JWT_SECRET_KEY: 'jwt-secret-value-1',
      DATABASE_URL: 'postgres://shop:db-pass-2@db/shop',
      SMTP_URL: 'smtp://mailer:smtp-pass-3@mail',
      WEB_PORT: '8080',
    })
    expect(process.env.JWT_SECRET_KEY).toBeUndefined()
  })

  it('registers secret values by key pattern and by the secrets list', async () => {
    await readEnvFile(environment({ secrets: ['SMTP_URL'] }))
    const line = 'jwt-secret-value-1 smtp://mailer:smtp-pass-3@mail postgres://shop:db-pass-2@db/shop 8080'
    // DATABASE_URL matches neither the pattern nor the list.
    expect(mask(line)).toBe('**** **** postgres://shop:db-pass-2@db/shop 8080')
  })

  it('says how to create a missing env file', async () => {
    const missing = join(envDir, 'staging.env')
    await expect(readEnvFile(environment({ envFile: missing }))).rejects.toMatchObject({
      code: 'ENV_FILE_MISSING',
      message: `env file ${missing} of environment staging does not exist`,
      hint: 'create it from environments/staging.env.example and fill in the values',
    })
  })

  it('names every missing or empty required variable, and no value', async () => {
    const file = join(envDir, 'incomplete.env')
    const env = environment({ envFile: file, required: ['JWT_SECRET_KEY', 'DATABASE_URL', 'WEB_PORT', 'BLANK', 'MAILER_URL'], secrets: ['MAILER_URL'] })
    const error: unknown = await readEnvFile(env).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({
      code: 'REQUIRED_MISSING',
      exitCode: 2,
      message: `env file ${file} lacks required variables: JWT_SECRET_KEY (empty), DATABASE_URL (not set), BLANK (empty)`,
    })
    const text = JSON.stringify(error) + String((error as Error).message)
    for (const value of ['api-token-value-4', 'mailer-pass-5', '8080']) expect(text).not.toContain(value)
    // Registered before the check, so whatever prints next is masked already.
    expect(mask('api-token-value-4 smtp://mailer:mailer-pass-5@mail')).toBe('**** ****')
  })
})

describe('readEnvFile: notify URLs (SPEC §11)', () => {
  const CHAT = 'https://chat.example.com/hooks/${DATABASE_URL}'

  it('masks each URL as written and filled in, the values it uses, its path and its password', async () => {
    await readEnvFile(environment({ notify: [{ url: CHAT, on: ['ok'] }, { url: 'https://bot:hunter22@ops.example.com/deploys?key=ab12', on: ['failed'] }] }))
    expect(mask(`POST ${CHAT}`)).toBe('POST ****')
    expect(mask('POST https://chat.example.com/hooks/postgres://shop:db-pass-2@db/shop')).toBe('POST ****')
    // DATABASE_URL is not named like a secret: used in a notify URL, it is one.
    expect(mask('dsn postgres://shop:db-pass-2@db/shop')).toBe('dsn ****')
    expect(mask('no hook at /deploys?key=ab12, user bot with hunter22')).toBe('no hook at ****, user bot with ****')
    // A variable's value alone is masked only when the URL uses it.
    expect(mask('port 8080')).toBe('port 8080')
  })

  it('refuses, naming variables and never values, when a URL uses one the env file does not set', async () => {
    const env = environment({ notify: [{ url: 'https://chat.example.com/${CHAT_PATH}/${TEAM:-ops}', on: ['ok'] }, { url: '${PAGER_URL}', on: ['failed'] }] })
    await expect(readEnvFile(env)).rejects.toMatchObject({
      code: 'UNKNOWN_VARIABLE',
      exitCode: 2,
      message: `env file ${env.envFile} does not set CHAT_PATH, PAGER_URL, used by the notify URLs of staging`,
    })
  })

  it('refuses a URL that is no http(s) URL once filled in', async () => {
    const env = environment({ notify: [{ url: 'https://ok.example.com/', on: ['ok'] }, { url: '${WEB_PORT}', on: ['ok'] }] })
    const error = await readEnvFile(env).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2, message: `notify URL #2 of staging is not an http:// or https:// URL once filled in from ${env.envFile}` })
    expect(String((error as Error).message)).not.toContain('8080')
  })

  it('only masks, without refusing, when read for logs, compose or down', async () => {
    const env = environment({ required: ['NOT_THERE'], notify: [{ url: 'https://x.example.com/${NOT_SET}/${SMTP_URL}', on: ['ok'] }] })
    await expect(readEnvFile(env, { preconditions: false })).resolves.toMatchObject({ WEB_PORT: '8080' })
    expect(mask('smtp://mailer:smtp-pass-3@mail')).toBe('****')
  })
})

describe('interpolate', () => {
  const vars = { WEB_PORT: '8080', EMPTY: '' }

  it.each([
    ['http://127.0.0.1:${WEB_PORT}/health', 'http://127.0.0.1:8080/health'],
    ['${WEB_PORT}${WEB_PORT}', '80808080'],
    ['${MISSING:-3000}', '3000'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${WEB_PORT:-1}', '8080'],
    ['$WEB_PORT and ${', '$WEB_PORT and ${'],
    ['no variables', 'no variables'],
  ])('%s → %s', (template, expected) => {
    expect(interpolate(template, vars)).toBe(expected)
  })

  it('names every variable that is not set and has no default', () => {
    expect(() => interpolate('http://${HOST}:${PORT}/${HOST}', vars)).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_VARIABLE',
        message: 'http://${HOST}:${PORT}/${HOST} uses HOST, PORT, which the env file does not set',
      }),
    )
  })
})

describe('hashEnvFile', () => {
  it('is the sha256 of the bytes', async () => {
    const file = join(envDir, 'complete.env')
    const expected = createHash('sha256').update(readFileSync(file)).digest('hex')
    expect(await hashEnvFile(file)).toBe(expected)
    expect(expected).toMatch(/^[0-9a-f]{64}$/)
  })
})
