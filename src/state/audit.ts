import * as z from 'zod/mini'

import { mask } from '../secrets.js'
import type { StateStore } from '../target/target.js'
import { parseState, unlessMissing } from './files.js'
import { environmentPaths } from './paths.js'

/** SPEC §11: a hook that ran during the audited action, and how it ended (ok, failed (exit 1), timed out …). */
export interface HookRecord {
  hook: string
  result: string
  durationMs: number
}

export interface AuditEntry {
  action: 'deploy' | 'rollback' | 'down' | 'lock' | 'unlock' | 'maintenance'
  by: string
  at: string
  /** Release tags involved: `tag` applied, `from` the one it replaced. */
  tag?: string
  from?: string
  /** ok, or the error code (ROLLED_BACK, ROLLBACK_FAILED, LOCKED, …). */
  result: string
  durationMs?: number
  message?: string
  /** berth maintenance: turned on or off, and the page's message. */
  maintenance?: 'on' | 'off'
  pageMessage?: string
  /** The hooks that ran (SPEC §11): a failed post_ hook is audited here, beside the run's own result. */
  hooks?: HookRecord[]
}

const auditEntrySchema: z.ZodMiniType<AuditEntry> = z.looseObject({
  action: z.enum(['deploy', 'rollback', 'down', 'lock', 'unlock', 'maintenance'], unlessMissing('expected deploy, rollback, down, lock, unlock or maintenance')),
  by: z.string(),
  at: z.string(),
  tag: z.optional(z.string()),
  from: z.optional(z.string()),
  result: z.string(),
  durationMs: z.optional(z.number()),
  message: z.optional(z.string()),
  maintenance: z.optional(z.enum(['on', 'off'])),
  pageMessage: z.optional(z.string()),
  hooks: z.optional(z.array(z.looseObject({ hook: z.string(), result: z.string(), durationMs: z.number() }))),
})

export function auditPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).audit
}

/**
 * SPEC §8: one JSON line per action in <state>/<env>/audit.log (0600). Appends of one short line are
 * atomic enough for a log; masking guards against a secret slipping in through an error message. A log
 * whose last line was cut short (a full disk) gets the new line on a line of its own: appending never
 * changes what is there, so a damaged log never stops a run.
 */
export async function appendAudit(store: StateStore, env: string, entry: AuditEntry): Promise<void> {
  const path = auditPath(store.dir, env)
  const last = await store.files.lastByte(path)
  const separator = last === undefined || last === 0x0a ? '' : '\n'
  await store.files.append(path, `${separator}${mask(JSON.stringify(entry))}\n`)
}

export interface AuditDamage {
  file: string
  /** 1-based line numbers of lines that are not an audit entry, with what is wrong. */
  lines: { line: number; problem: string }[]
}

/** The audit log's lines that do not read as entries (doctor's state check); undefined when there are none. */
export async function auditDamage(store: StateStore, env: string): Promise<AuditDamage | undefined> {
  const path = auditPath(store.dir, env)
  const text = await store.files.read(path)
  if (text === undefined) return undefined
  const lines = text.split('\n').flatMap((content, i) => {
    if (content.trim() === '') return []
    const parsed = parseState(content, auditEntrySchema)
    return parsed.ok ? [] : [{ line: i + 1, problem: parsed.problem }]
  })
  return lines.length > 0 ? { file: path, lines } : undefined
}
