import type { ReleaseRecord } from '../deploy/releaseStore.js'
import type { StatusReport } from '../deploy/status.js'
import { table } from './table.js'

/** Human renderings of service results; --json prints the result objects themselves. */

export function formatStatus(report: StatusReport): string {
  const out: string[] = []
  for (const env of report.environments) {
    const head = env.release
      ? `${env.environment} (${env.project}): release ${env.release} since ${env.since}${env.previous ? `, previous ${env.previous}` : ''}`
      : `${env.environment} (${env.project}): no release deployed`
    out.push(head)
    if (env.services.length === 0) {
      out.push('  no containers')
    } else {
      const rows = [['  SERVICE', 'STATE', 'HEALTH', 'RELEASE', 'PORTS'], ...env.services.map((s) => [`  ${s.service}`, s.state, s.health || '-', s.release ?? '-', s.ports || '-'])]
      out.push(table(rows))
    }
    out.push('')
  }
  return out.join('\n').trimEnd()
}

export function formatReleases(env: string, releases: readonly ReleaseRecord[]): string {
  if (releases.length === 0) return `${env} has no releases yet`
  const rows = [
    ['TAG', 'STATUS', 'DEPLOYED', 'BY', 'GIT'],
    ...releases.map((r) => [r.status === 'active' ? `${r.tag} *` : r.tag, r.status, r.deployedAt, r.by, r.git ?? '-']),
  ]
  return table(rows)
}
