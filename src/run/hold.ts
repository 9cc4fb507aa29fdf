import { hostname } from 'node:os'

import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { appendAudit } from '../state/audit.js'
import { type Deps, operator } from './context.js'
import { acquireLock, describeHolder, isStale, type LockInfo, readLock, releaseHold } from '../state/lock.js'

export interface LockStatus {
  environment: string
  locked: boolean
  holder?: LockInfo & { stale: boolean; description: string }
}

function statusOf(environment: string, holder: LockInfo | undefined): LockStatus {
  return {
    environment,
    locked: holder !== undefined && !isStale(holder),
    ...(holder ? { holder: { ...holder, stale: isStale(holder), description: describeHolder(holder) } } : {}),
  }
}

export async function lockStatus(config: Config, envName: string): Promise<LockStatus> {
  const env = selectEnvironment(config, envName)
  return statusOf(env.name, await readLock(config.stateDir, env.name))
}

/** A deploy freeze: holds the environment's lock until `berth unlock`; deploys and rollbacks exit 5 meanwhile. */
export async function hold(config: Config, envName: string, message: string, command: string, deps: Deps): Promise<LockStatus> {
  const env = selectEnvironment(config, envName)
  const info: LockInfo = { pid: process.pid, host: hostname(), by: operator(), command, startedAt: deps.now().toISOString(), manual: true, message }
  await acquireLock(config.stateDir, env.name, info, deps.reporter)
  await appendAudit(config.stateDir, env.name, { action: 'lock', by: info.by, at: info.startedAt, result: 'ok', message })
  return statusOf(env.name, info)
}

export async function unhold(config: Config, envName: string, deps: Deps): Promise<LockStatus & { released?: string }> {
  const env = selectEnvironment(config, envName)
  const released = await releaseHold(config.stateDir, env.name)
  if (released) {
    await appendAudit(config.stateDir, env.name, { action: 'unlock', by: operator(), at: deps.now().toISOString(), result: 'ok', message: `released ${describeHolder(released)}` })
  }
  return { ...statusOf(env.name, undefined), ...(released ? { released: describeHolder(released) } : {}) }
}
