import type * as z from 'zod'

/**
 * What deploy.yml's readers share with its schema (schema.ts) without building it: the name rules that paths and
 * project names are checked with, the hook names, and how a zod issue reads to an operator (deploy.yml's and the
 * state files' alike). Building the schema costs a command about 10 ms at start; only a deploy.yml that is not in
 * the validated-config cache (config/cache.ts) needs it.
 */

/** App and environment names become compose project names and directory names, hence the narrow rule. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/
export const NAME_RULE = `must match ${NAME_PATTERN.source} (a lowercase letter, then up to 30 lowercase letters, digits or "-")`

/** SPEC §10: ssh://[user@]host[:port], as docker's own DOCKER_HOST=ssh://… takes it (no path). */
export const SSH_URL_PATTERN = /^ssh:\/\/(?:([A-Za-z0-9._][A-Za-z0-9._-]*)@)?([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/

export const PATTERN_PART = /^[a-z0-9-]+$/

export const HOOK_NAMES = ['pre_deploy', 'post_deploy', 'pre_rollback', 'post_rollback', 'on_failure'] as const

export interface SchemaIssue {
  path: (string | number)[]
  message: string
}

/** Keys an earlier berth read, each with what to do instead of a bare "unknown key". */
const RETIRED_KEYS: Record<string, string> = {
  'edge.admin_port':
    "no longer used: berth reaches the edge's admin API on a unix socket only root can open (<edge dir>/admin/admin.sock), not on a TCP port; remove the key",
}

/** A failed parse's issues as operators read them (parse with `{ error: describeIssue }`); each unknown key is its own issue. */
export function schemaIssues(error: z.core.$ZodError): SchemaIssue[] {
  return error.issues.flatMap((issue): SchemaIssue[] => {
    const path = issue.path.filter((key) => typeof key !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: RETIRED_KEYS[[...path, key].join('.')] ?? 'unknown key' }))
    }
    if (issue.code === 'invalid_key') return [{ path, message: issue.issues[0]?.message ?? issue.message }]
    return [{ path, message: issue.message }]
  })
}

/** A key path as operators write it: environments.staging.routes[0].listen */
export function formatPath(path: SchemaIssue['path']): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('')
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return typeof value
}

/** Fallback messages for issues the schema does not phrase itself. */
export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type' && issue.code !== 'invalid_value') return undefined
  if (issue.input === undefined) return 'is required'
  if (issue.code === 'invalid_value') return undefined
  return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${typeOf(issue.input)}`
}
