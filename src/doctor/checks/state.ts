import { auditDamage, type AuditDamage } from '../../state/audit.js'
import { type DamagedFile, damagedState } from '../../state/damage.js'
import { shellWord } from '../../state/files.js'
import type { StateStore } from '../../target/target.js'
import { type Check, plural } from '../check.js'

export interface StateFindings {
  env: string
  damaged: DamagedFile[]
  audit?: AuditDamage
}

export async function readStateFindings(store: StateStore, envs: readonly string[]): Promise<StateFindings[]> {
  return Promise.all(
    envs.map(async (env) => {
      const [damaged, audit] = await Promise.all([damagedState(store, env), auditDamage(store, env)])
      return { env, damaged, ...(audit ? { audit } : {}) }
    }),
  )
}

/**
 * Release records, colour state and locks that do not read stop every deploy, rollback and down of their
 * environment: fail, with the one command that fixes each. Damaged audit lines only warn: berth appends
 * after them and never relies on the log.
 */
export function stateCheck(findings: readonly StateFindings[]): Check {
  const damaged = findings.flatMap((f) => f.damaged.map((d) => ({ env: f.env, ...d })))
  const audits = findings.flatMap((f) => (f.audit ? [{ env: f.env, ...f.audit }] : []))
  const details = [
    ...damaged.map((d) => `${d.env}: ${d.file}: ${d.problem}`),
    ...audits.map((a) => `${a.env}: ${a.file}: ${a.lines.map((l) => `line ${l.line}: ${l.problem}`).join('; ')}`),
  ]
  if (details.length === 0) return { id: 'state', status: 'ok', summary: `the state files of ${findings.length} environment${plural(findings.length)} read as they should`, details: [] }
  const auditFix = audits.map((a) => `sed -i '${a.lines.map((l) => `${l.line}d`).join(';')}' ${shellWord(a.file)}`)
  if (damaged.length === 0) {
    return {
      id: 'state',
      status: 'warn',
      summary: `${audits.length} audit log${plural(audits.length)} with damaged lines`,
      details,
      hint: `berth appends after damaged lines and never reads the log to decide anything. To drop them: ${auditFix.join('; ')}`,
    }
  }
  const envs = [...new Set(damaged.map((d) => d.env))]
  return {
    id: 'state',
    status: 'fail',
    summary: `${damaged.length} damaged state file${plural(damaged.length)} (${envs.join(', ')}): deploy, rollback and down of ${envs.length === 1 ? 'that environment are' : 'those environments are'} refused`,
    details,
    hint: [...damaged.map((d) => `${d.env}: ${d.fix}`), ...(auditFix.length ? [`audit lines: ${auditFix.join('; ')}`] : [])].join('\n        '),
  }
}
