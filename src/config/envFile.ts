import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import dotenv from 'dotenv'
import { ConfigError } from '../errors.js'
import { registerSecrets, secretValuesOf } from '../secrets.js'
import type { EnvironmentConfig } from './types.js'

/**
 * The environment's variables, from its env file alone: process.env is neither read nor written, so a
 * variable exported in the operator's shell cannot leak into a deploy (SPEC §2, seed 004).
 * Secret values are registered for masking before anything can print them.
 */
export async function readEnvFile(env: EnvironmentConfig): Promise<Record<string, string>> {
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
  return values
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
