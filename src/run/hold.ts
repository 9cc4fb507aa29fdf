import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { appendAudit } from '../state/audit.js'
import { acquireLock, describeHolder, judgeStale, type LockInfo, readLock, releaseHold } from '../state/lock.js'
import { type Deps, operator } from './context.js'

export interface LockStatus {
  environment: string
  locked: boolean
  holder?: LockInfo & { stale: boolean; description: string }
}

function statusOf(environment: string, holder: LockInfo | undefined, stale: boolean): LockStatus {
  return {
    environment,
    locked: holder !== undefined && !stale,
    ...(holder ? { holder: { ...holder, stale, description: describeHolder(holder) } } : {}),
  }
}

/** The lock's holder, and whether it is stale: another machine's run by its lease (SPEC §10). */
export async function lockStatus(config: Config, envName: string, deps: Pick<Deps, 'target'>): Promise<LockStatus> {
  const env = selectEnvironment(config, envName)
  const { state, runs } = deps.target
  const holder = await readLock(state, env.name)
  return statusOf(env.name, holder, holder ? await judgeStale(state, env.name, holder, runs) : false)
}

/** A deploy freeze: holds the environment's lock until `berth unlock`; deploys and rollbacks exit 5 meanwhile. */
export async function hold(config: Config, envName: string, message: string, command: string, deps: Deps): Promise<LockStatus> {
  const env = selectEnvironment(config, envName)
  const { runs, state } = deps.target
  const info: LockInfo = { pid: runs.pid, host: runs.hostname, by: operator(), command, startedAt: deps.now().toISOString(), manual: true, message }
  await acquireLock(state, env.name, info, deps.reporter, runs)
  await appendAudit(state, env.name, { action: 'lock', by: info.by, at: info.startedAt, result: 'ok', message })
  return statusOf(env.name, info, false)
}

export async function unhold(config: Config, envName: string, deps: Deps): Promise<LockStatus & { released?: string }> {
  const env = selectEnvironment(config, envName)
  const { runs, state } = deps.target
  const released = await releaseHold(state, env.name, runs)
  if (released) {
    await appendAudit(state, env.name, { action: 'unlock', by: operator(), at: deps.now().toISOString(), result: 'ok', message: `released ${describeHolder(released)}` })
  }
  return { ...statusOf(env.name, undefined, false), ...(released ? { released: describeHolder(released) } : {}) }
}
