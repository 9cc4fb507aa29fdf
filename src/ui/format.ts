import { formatBytes } from '../inspect/memory.js'
import type { ColourStatus } from '../strategy/strategy.js'
import type { StackServiceStatus } from '../strategy/swarm/inspect.js'
import type { DoctorReport } from '../doctor/doctor.js'
import type { DriftItem, EnvironmentDrift } from '../inspect/drift.js'
import type { ReleaseRecord } from '../state/releases.js'
import { describeSharedName } from '../preflight/sharedNetworks.js'
import type { DamagedFile } from '../state/damage.js'
import type { EnvironmentAge, ReleaseHistory, StatusReport } from '../inspect/status.js'
import { table } from './table.js'
import { type UnmanagedContainer } from '../inspect/unmanaged.js'

/** Human renderings of service results; --json prints the result objects themselves. */

export function formatStatus(report: StatusReport): string {
  const out: string[] = []
  for (const env of report.environments) {
    const name = `${env.environment} (${env.project})${env.engine ? ` on ${env.engine}` : ''}`
    if (env.unreachable) {
      out.push(`${name}: UNREACHABLE: ${env.unreachable}`, '')
      continue
    }
    const head = env.release
      ? `${name}: release ${env.release} since ${env.since}${env.previous ? `, previous ${env.previous}` : ''}`
      : env.damaged
      ? `${name}: state damaged, release unknown`
      : `${name}: no release deployed`
    out.push(head)
    if (env.age) out.push(formatAge(env.age))
    if (env.damaged) out.push(...formatDamaged(env.damaged))
    if (env.colours) out.push(...formatColours(env.environment, env.colours))
    if (env.stack) out.push(...formatStack(env.stack))
    if (env.services.length === 0) {
      out.push('  no containers')
    } else {
      const rows = [['  SERVICE', 'STATE', 'HEALTH', 'RELEASE', 'PORTS'], ...env.services.map((s) => [`  ${s.service}`, s.state, s.health || '-', s.release ?? '-', s.ports || '-'])]
      out.push(table(rows))
    }
    out.push(...formatDrift(env, env.release))
    for (const f of env.sharedNames ?? []) out.push(`  warning: ${describeSharedName(f)}`)
    out.push('')
  }
  if (report.unmanaged.length > 0) out.push(...formatUnmanaged(report.app, report.unmanaged))
  return out.join('\n').trimEnd()
}

/** SPEC §11: "  age 2h 5m (first deployed …), preview of preview-*, expires in 2d 21h (…)". */
function formatAge(age: EnvironmentAge): string {
  const expiry =
    age.expiresAt === undefined
      ? 'no expiry'
      : age.expired
        ? `EXPIRED at ${age.expiresAt} (berth prune --expired takes it down)`
        : `expires in ${formatSpan(Date.parse(age.expiresAt) - Date.parse(age.createdAt) - age.ageMs)} (${age.expiresAt})`
  return `  age ${formatSpan(age.ageMs)} (first deployed ${age.createdAt}, last ${age.lastDeployAt})${age.pattern ? `, preview of ${age.pattern}` : ''}, ${expiry}`
}

/** A span as its two largest units: 3d 4h, 2h 5m, 4m 10s, 12s (whole seconds, rounded down). */
export function formatSpan(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]]
  const span = Math.max(0, Math.floor(ms / 1000) * 1000)
  const i = units.findIndex(([, size]) => span >= size)
  if (i < 0) return '0s'
  const [unit, size] = units[i] as [string, number]
  const n = Math.floor(span / size)
  const next = units[i + 1]
  const m = next ? Math.floor((span - n * size) / next[1]) : 0
  return next && m > 0 ? `${n}${unit} ${m}${next[0]}` : `${n}${unit}`
}

function formatStack(services: readonly StackServiceStatus[]): string[] {
  if (services.length === 0) return ['  swarm stack: no services']
  const rows = [['  STACK SERVICE', 'MODE', 'REPLICAS', 'TASKS', 'PORTS'], ...services.map((s) => [`  ${s.service}`, s.mode, s.replicas, `${s.tasks}${s.update ? ` (update ${s.update})` : ''}`, s.ports])]
  return [table(rows)]
}

function formatColours(name: string, c: ColourStatus): string[] {
  const out = [`  blue-green: live ${c.live ?? 'none'}${c.idle ? `, idle ${c.idle.colour} (release ${c.idle.release}, ${c.idle.mode === 'running' ? `its routed services running${c.idle.memoryBytes !== undefined ? `, ${formatBytes(c.idle.memoryBytes)}` : ''}` : 'stopped-warm'})` : ''}`]
  if (c.maintenance) out.push(`  maintenance: ON since ${c.maintenance.since}, its routes answer 503 with ${c.maintenance.message !== undefined ? `"${c.maintenance.message}"` : 'the default page'} (berth maintenance ${name} off ends it)`)
  for (const r of c.routes) out.push(`  route :${r.listen}${r.host ? ` (${r.host})` : ''} -> ${r.service}:${r.port}${r.upstream ? ` on ${r.upstream}` : ' (not routed yet)'}`)
  return out
}

function formatDrift(env: EnvironmentDrift, release: string | undefined): string[] {
  const out: string[] = []
  if (env.drift.length > 0) {
    out.push(release ? `  drift from release ${release}:` : '  drift:')
    out.push(table(env.drift.map((d: DriftItem) => [`    ${d.service || '-'}`, d.container ?? '-', d.message])))
  } else if (release) {
    out.push(`  drift: none${env.driftNote ? ' found' : ''}`)
  }
  if (env.driftNote) out.push(`  ${env.driftNote}`)
  return out
}

function formatUnmanaged(app: string, unmanaged: readonly (UnmanagedContainer & { engine?: string })[]): string[] {
  return [
    `containers of ${app} outside its environments (started by hand, not managed by berth):`,
    table([
      ['  NAME', 'IMAGE', 'STATE', 'TO BRING IT UNDER BERTH'],
      ...unmanaged.map((u) => [`  ${u.name}${u.engine && u.engine !== 'the local engine' ? ` (on ${u.engine})` : ''}`, u.image, u.state, u.command]),
    ]),
  ]
}

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const

/** One line per check, naming its engine when it is not the shell's; findings and the hint indented under a check that is not ok. */
export function formatDoctor(report: DoctorReport): string {
  const lines = table([['STATUS', 'CHECK', 'RESULT'], ...report.checks.map((c) => [MARK[c.status], c.id, c.engine ? `on ${c.engine}: ${c.summary}` : c.summary])]).split('\n')
  const out = [lines[0] as string]
  report.checks.forEach((c, i) => {
    out.push(lines[i + 1] as string)
    for (const d of c.details) out.push(`        ${d}`)
    if (c.hint && c.status !== 'ok') out.push(`        hint: ${c.hint}`)
  })
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  out.push('', `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${report.checks.length - failed - warned} ok`)
  return out.join('\n')
}

export function formatReleases(history: ReleaseHistory): string {
  const { environment, damaged, lastGood } = history
  if (damaged) {
    return [
      `${environment}'s release records are damaged: ${damaged.file}: ${damaged.problem}`,
      `fix: ${damaged.fix}`,
      ...(lastGood ? ['', `the last good copy (${lastGood.file}) holds:`, releaseTable(environment, lastGood.releases)] : []),
    ].join('\n')
  }
  return releaseTable(environment, history.releases)
}

function releaseTable(env: string, releases: readonly ReleaseRecord[]): string {
  if (releases.length === 0) return `${env} has no releases yet`
  const rows = [
    ['TAG', 'STATUS', 'DEPLOYED', 'BY', 'GIT'],
    ...releases.map((r) => [r.status === 'active' ? `${r.tag} *` : r.tag, r.status, r.deployedAt, r.by, r.git ?? '-']),
  ]
  // Why berth rolled a release back by itself (a deploy's watch window), under the table: too long for a column.
  const reasons = releases.flatMap((r) => (r.reason ? [`${r.tag} ${r.status}: ${r.reason}`] : []))
  return reasons.length ? `${table(rows)}\n\n${reasons.join('\n')}` : table(rows)
}

function formatDamaged(damaged: readonly DamagedFile[]): string[] {
  return damaged.flatMap((d) => [`  state damaged: ${d.file}: ${d.problem}`, `    fix: ${d.fix}`])
}
