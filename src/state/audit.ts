import { appendFile, open } from 'node:fs/promises'

import { z } from 'zod'

import { mask } from '../secrets.js'
import { ensurePrivateDir, parseState, readIfExists, unlessMissing } from './files.js'
import { environmentPaths } from './paths.js'

export interface AuditEntry {
  action: 'deploy' | 'rollback' | 'down' | 'lock' | 'unlock'
  by: string
  at: string
  /** Release tags involved: `tag` applied, `from` the one it replaced. */
  tag?: string
  from?: string
  /** ok, or the error code (ROLLED_BACK, ROLLBACK_FAILED, LOCKED, …). */
  result: string
  durationMs?: number
  message?: string
}

const auditEntrySchema: z.ZodType<AuditEntry> = z.looseObject({
  action: z.enum(['deploy', 'rollback', 'down', 'lock', 'unlock'], unlessMissing('expected deploy, rollback, down, lock or unlock')),
  by: z.string(),
  at: z.string(),
  tag: z.string().optional(),
  from: z.string().optional(),
  result: z.string(),
  durationMs: z.number().optional(),
  message: z.string().optional(),
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
export async function appendAudit(stateDir: string, env: string, entry: AuditEntry): Promise<void> {
  await ensurePrivateDir(environmentPaths(stateDir, env).dir)
  const path = auditPath(stateDir, env)
  const separator = (await endsWithNewline(path)) ? '' : '\n'
  await appendFile(path, `${separator}${mask(JSON.stringify(entry))}\n`, { mode: 0o600 })
}

/** True for a file that is missing, empty or ends with a newline. */
async function endsWithNewline(path: string): Promise<boolean> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw error
  }
  try {
    const { size } = await handle.stat()
    if (size === 0) return true
    const last = Buffer.alloc(1)
    await handle.read(last, 0, 1, size - 1)
    return last[0] === 0x0a
  } finally {
    await handle.close()
  }
}

export interface AuditDamage {
  file: string
  /** 1-based line numbers of lines that are not an audit entry, with what is wrong. */
  lines: { line: number; problem: string }[]
}

/** The audit log's lines that do not read as entries (doctor's state check); undefined when there are none. */
export async function auditDamage(stateDir: string, env: string): Promise<AuditDamage | undefined> {
  const path = auditPath(stateDir, env)
  const text = await readIfExists(path)
  if (text === undefined) return undefined
  const lines = text.split('\n').flatMap((content, i) => {
    if (content.trim() === '') return []
    const parsed = parseState(content, auditEntrySchema)
    return parsed.ok ? [] : [{ line: i + 1, problem: parsed.problem }]
  })
  return lines.length > 0 ? { file: path, lines } : undefined
}
