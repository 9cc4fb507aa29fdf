import type { InitResult } from '../config/init.js'
import type { DeployResult } from '../run/deploy.js'
import type { DownResult } from '../run/down.js'
import type { LockStatus } from '../run/hold.js'
import type { MaintenanceResult } from '../run/maintenance.js'
import type { PruneResult } from '../run/prune.js'
import type { RollbackResult } from '../run/rollback.js'

/** Human summaries of what a command did, each ending with what undoes it when something does. */

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

export function formatDeployed(result: DeployResult): string {
  const undo = result.previous && result.previous !== result.tag ? `\nto undo: berth rollback ${result.environment} --to ${result.previous}` : ''
  return `${result.environment} is running release ${result.tag} (${seconds(result.durationMs)})${undo}`
}

export function formatRolledBack(result: RollbackResult): string {
  const undo = result.from ? `\nto undo: berth rollback ${result.environment} --to ${result.from}` : ''
  return `${result.environment} is running release ${result.tag} (${seconds(result.durationMs)})${undo}`
}

export function formatDown(result: DownResult): string {
  const removed = `${result.containers.length} container${result.containers.length === 1 ? '' : 's'} removed`
  const back = result.release ? `\nto bring it back: berth rollback ${result.environment} --to ${result.release}` : ''
  return `${result.environment} (${result.project}) is down: ${removed}, volumes ${result.volumes ? 'deleted' : 'kept'} (${seconds(result.durationMs)})${back}`
}

export function formatLock(status: LockStatus): string {
  if (!status.holder) return `${status.environment} is not locked`
  return `${status.environment} is ${status.holder.stale ? 'not locked (a stale lock is left, taken over by the next run)' : 'locked'} by ${status.holder.description}`
}

export function formatUnlock(result: LockStatus & { released?: string }): string {
  return result.released ? `${result.environment} unlocked (was held by ${result.released})` : `${result.environment} was not locked`
}

export function formatInit(result: InitResult): string {
  return [
    ...result.written.map((file) => `wrote ${file}`),
    ...(result.gitignore.added.length ? [`added to ${result.gitignore.file}: ${result.gitignore.added.join(' ')}`] : []),
    ...(result.compose.exists ? [] : [`note: ${result.compose.file} does not exist yet; write it, or name your compose files under compose: in deploy.yml`]),
    ...(result.schema !== undefined ? [] : ['note: berth is not installed in this project, so deploy.yml names no $schema for editors (see the comment at its top)']),
    'next: cp environments/staging.env.example environments/staging.env, fill it in, then: berth deploy staging',
  ].join('\n')
}

export function formatMaintenance(result: MaintenanceResult): string {
  const env = result.environment
  if (result.maintenance === 'off') {
    return result.changed ? `${env} serves again: its maintenance page is off\nto undo: berth maintenance ${env} on` : `${env} was not in maintenance; nothing was changed`
  }
  const routes = `${result.routes.length} route${result.routes.length === 1 ? '' : 's'}`
  const rewritten = result.rewrittenRoutes.length ? ` (${result.rewrittenRoutes.length} rewritten first: one reload of the edge)` : ''
  const page = result.message !== undefined ? `"${result.message}"` : 'the default page'
  const answer = result.routes.length === 1 ? 'answers' : 'answer'
  return `${env} is in maintenance since ${result.since ?? '?'}: its ${routes}${rewritten} ${answer} 503 with ${page}${result.changed ? '' : ' (as before; nothing was changed)'}\nto undo: berth maintenance ${env} off`
}

export function formatPruned(result: PruneResult): string {
  const verb = result.dryRun ? 'would take down' : 'took down'
  const lines = result.pruned.map((p) => {
    const containers = `${p.containers.length} container${p.containers.length === 1 ? '' : 's'}`
    return `${verb} ${p.environment} (${p.project}, expired ${p.expiresAt}): ${containers}, its networks, volumes, records and ${p.envFile}`
  })
  const skipped = result.skipped.map((s) => `skipped ${s.environment}: ${s.reason}`)
  const none = result.pruned.length === 0 ? [`no expired preview ${result.dryRun ? 'to take down' : 'was taken down'}`] : []
  const tail = result.dryRun && result.pruned.length > 0 ? ['nothing was changed (--dry-run); to take them down: berth prune --expired'] : []
  return [...lines, ...none, ...skipped, ...tail].join('\n')
}
