import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'

import { mask } from '../secrets.js'
import { ensurePrivateDir } from './stateFiles.js'

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

/**
 * SPEC §8: one JSON line per action in <state>/<env>/audit.log (0600). Appends of one short line are
 * atomic enough for a log; masking guards against a secret slipping in through an error message.
 */
export async function appendAudit(stateDir: string, env: string, entry: AuditEntry): Promise<void> {
  await ensurePrivateDir(join(stateDir, env))
  await appendFile(join(stateDir, env, 'audit.log'), `${mask(JSON.stringify(entry))}\n`, { mode: 0o600 })
}
