import { stat } from 'node:fs/promises'

import type { EnvironmentConfig } from '../../config/types.js'
import { type Check, plural } from '../check.js'

export interface EnvFileMode {
  env: string
  path: string
  /** Permission bits; undefined when the file could not be read. */
  mode?: number
  error?: string
}

export async function readEnvFileMode(env: EnvironmentConfig): Promise<EnvFileMode> {
  try {
    return { env: env.name, path: env.envFile, mode: (await stat(env.envFile)).mode & 0o777 }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { env: env.name, path: env.envFile, error: code === 'ENOENT' ? 'missing' : (error as Error).message }
  }
}

/** Who besides the owner can read an env file: undefined when no one (or when its mode is unknown). */
export function envFileOpenTo(file: EnvFileMode): 'every user' | 'its group' | undefined {
  if (file.mode === undefined || (file.mode & 0o077) === 0) return undefined
  return file.mode & 0o007 ? 'every user' : 'its group'
}

function modeText(mode: number): string {
  return mode.toString(8).padStart(3, '0')
}

/** What a deploy warns of before it changes anything (the doctor check's finding for one file); undefined when the file is the owner's only. */
export function envFileWarning(file: EnvFileMode): string | undefined {
  const to = envFileOpenTo(file)
  if (to === undefined || file.mode === undefined) return undefined
  return `${file.path} holds ${file.env}'s secrets and is mode ${modeText(file.mode)}: open to ${to}; chmod 600 ${file.path}`
}

/** Env files hold the environment's secrets: readable by the owner only. */
export function envFileCheck(files: readonly EnvFileMode[]): Check {
  const open = files.flatMap((f) => {
    const to = envFileOpenTo(f)
    return to !== undefined && f.mode !== undefined ? [{ ...f, mode: f.mode, to }] : []
  })
  const unreadable = files.filter((f) => f.mode === undefined)
  const details = [
    ...open.map((f) => `${f.path} (${f.env}) is mode ${modeText(f.mode)}: open to ${f.to}`),
    ...unreadable.map((f) => `${f.path} (${f.env}): ${f.error}`),
  ]
  if (open.length > 0) {
    return {
      id: 'env-files',
      status: 'fail',
      summary: `${open.length} env file${plural(open.length)} readable by other users`,
      details,
      hint: `chmod 600 ${open.map((f) => f.path).join(' ')}`,
    }
  }
  if (unreadable.length > 0) {
    return { id: 'env-files', status: 'warn', summary: `${unreadable.length} env file${plural(unreadable.length)} cannot be read`, details, hint: 'berth deploy refuses an environment whose env file is missing; create it from its .env.example.' }
  }
  return { id: 'env-files', status: 'ok', summary: `${files.length} env file${plural(files.length)}, readable by the owner only`, details: [] }
}
