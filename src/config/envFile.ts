import { readFile } from 'node:fs/promises'
import dotenv from 'dotenv'
import { createHash } from '../crypto.js'
import { ConfigError } from '../errors.js'
import { registerSecrets, secretValuesOf } from '../secrets.js'
import type { EnvironmentConfig, Webhook } from './types.js'

export interface ReadOptions {
  /**
   * Refuse when a deploy or rollback could not use the file: a `required` variable missing or empty, a
   * variable a notify URL uses not set (default). logs, compose and down only read it to mask its secrets.
   */
  preconditions?: boolean
}

/**
 * The environment's variables, from its env file alone: process.env is neither read nor written, so a
 * variable exported in the operator's shell cannot leak into a deploy (SPEC §2, seed 004).
 * Secret values are registered for masking before anything can print them.
 */
export async function readEnvFile(env: EnvironmentConfig, { preconditions = true }: ReadOptions = {}): Promise<Record<string, string>> {
  let bytes: Buffer
  try {
    bytes = await readFile(env.envFile)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(
        `env file ${env.envFile} of environment ${env.name} does not exist`,
        env.preview
          ? `berth wrote it from ${env.preview.template} when ${env.name} was first deployed and never writes it again: restore it (its ports are in the state directory's ${env.name}/preview.json)`
          : `create it from environments/${env.name}.env.example and fill in the values`,
        'ENV_FILE_MISSING',
      )
    }
    throw new ConfigError(`cannot read env file ${env.envFile}: ${(error as Error).message}`)
  }

  const values = dotenv.parse(bytes)
  registerSecrets(secretValuesOf(values, env.secrets))
  registerSecrets(webhookSecrets(env.notify, values))
  if (!preconditions) return values

  // Names only: the values of required variables are typically secrets.
  const problems = env.required.flatMap((name) => {
    const value = values[name]
    if (value === undefined) return [`${name} (not set)`]
    return value.trim() === '' ? [`${name} (empty)`] : []
  })
  if (problems.length > 0) {
    throw new ConfigError(
      `env file ${env.envFile} lacks required variables: ${problems.join(', ')}`,
      `set them in ${env.envFile}`,
      'REQUIRED_MISSING',
    )
  }
  refuseUnsetWebhookVariables(env, values)
  return values
}

/**
 * SPEC §11: a webhook URL often holds a token, so it is a secret as written and as filled in, and so are the
 * parts a token sits in, which an endpoint's error may echo alone: the value of every variable it uses (put
 * there to keep the token out of deploy.yml), its path and query, its password.
 */
export function webhookSecrets(webhooks: readonly Webhook[], vars: Record<string, string>): string[] {
  return webhooks.flatMap(({ url }) => {
    const used = [...url.matchAll(VARIABLE)].flatMap(([, name]) => (vars[name as string] ? [vars[name as string] as string] : []))
    let filled: string
    try {
      filled = interpolate(url, vars)
    } catch {
      // An unset variable: the run is refused (refuseUnsetWebhookVariables); the rest is still masked.
      return [url, ...used]
    }
    return [url, filled, ...used, ...tokenParts(filled)]
  })
}

function tokenParts(url: string): string[] {
  if (!URL.canParse(url)) return []
  const { pathname, search, password } = new URL(url)
  const path = `${pathname}${search}`
  return [...(path.length > 1 ? [path] : []), ...(password ? [decodeURIComponent(password)] : [])]
}

/**
 * A notify URL that cannot be filled in from the env file refuses the run, as a missing `required` variable
 * does; so does one that is no http(s) URL once filled in. The messages name variables, never values.
 */
function refuseUnsetWebhookVariables(env: EnvironmentConfig, values: Record<string, string>): void {
  const unset = new Set<string>()
  const notUrls: number[] = []
  env.notify.forEach(({ url }, i) => {
    const missing = [...url.matchAll(VARIABLE)].filter(([, name, fallback]) => values[name as string] === undefined && fallback === undefined).map(([, name]) => name as string)
    for (const name of missing) unset.add(name)
    if (missing.length === 0 && !/^https?:\/\/[^/?#\s]/.test(interpolate(url, values))) notUrls.push(i)
  })
  if (unset.size > 0) {
    const names = [...unset].join(', ')
    throw new ConfigError(
      `env file ${env.envFile} does not set ${names}, used by the notify URLs of ${env.name}`,
      `set ${names} in ${env.envFile}, or give a default: \${VAR:-default}`,
      'UNKNOWN_VARIABLE',
    )
  }
  if (notUrls.length > 0) {
    throw new ConfigError(
      `notify URL ${notUrls.map((i) => `#${i + 1}`).join(', ')} of ${env.name} is not an http:// or https:// URL once filled in from ${env.envFile}`,
      `check the variables it uses in ${env.envFile}`,
      'CONFIG_INVALID',
    )
  }
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Compose-style ${VAR} and ${VAR:-default} (the default also replaces an empty value). */
export function interpolate(template: string, vars: Record<string, string>): string {
  const unknown = new Set<string>()
  const result = template.replace(VARIABLE, (placeholder, name: string, fallback: string | undefined) => {
    const value = vars[name]
    if (fallback !== undefined && !value) return fallback
    if (value !== undefined) return value
    unknown.add(name)
    return placeholder
  })
  if (unknown.size > 0) {
    const names = [...unknown].join(', ')
    throw new ConfigError(`${template} uses ${names}, which the env file does not set`, `set ${names} in the env file or give a default: \${VAR:-default}`, 'UNKNOWN_VARIABLE')
  }
  return result
}

/** Recorded with each release, to tell whether the env file changed since. */
export async function hashEnvFile(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}
