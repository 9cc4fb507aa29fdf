import type { Config } from '../../../src/config/types.js'
import { silentReporter } from '../../../src/progress.js'
import { type AuditEntry, auditPath } from '../../../src/state/audit.js'
import { type ColourState, readColours, writeColours } from '../../../src/state/colours.js'
import { type LockInfo, acquireLock, readLock } from '../../../src/state/lock.js'
import { configPath } from '../../../src/state/paths.js'
import { readReleases, type ReleaseRecord, writeReleases } from '../../../src/state/releases.js'
import type { StateStore } from '../../../src/target/target.js'
import { localRuns, localState } from '../../../src/target/local.js'
import { recordedConfig } from './config.js'

/**
 * Every call the flow tests make into the state modules, for set-up and for reading back what a flow
 * recorded: when the state's storage changes, these are the lines to change.
 */

/** The app's state as the local target keeps it (flowDeps gives the flow the same one). */
function storeOf(config: Config): StateStore {
  return localState(config.stateDir)
}

/** An environment's records, each with its recorded config on disk. */
export async function givenReleases(config: Config, env: string, records: ReleaseRecord[]): Promise<ReleaseRecord[]> {
  await writeReleases(storeOf(config), env, records)
  return givenConfigs(config, env, records)
}

/** Only the recorded configs of releases (what apply reads), without records naming them. */
export async function givenConfigs(config: Config, env: string, records: ReleaseRecord[]): Promise<ReleaseRecord[]> {
  const store = storeOf(config)
  for (const r of records) await store.files.writeAtomic(configPath(store.dir, env, r.configFile), recordedConfig(config.app, env, r.tag))
  return records
}

export async function releasesOf(config: Config, env: string): Promise<ReleaseRecord[]> {
  return readReleases(storeOf(config), env)
}

/** Tag and status of each record, newest first: what most assertions on records need. */
export async function statusesOf(config: Config, env: string): Promise<string[]> {
  return (await releasesOf(config, env)).map((r) => `${r.tag} ${r.status}`)
}

export async function givenColours(config: Config, env: string, state: ColourState): Promise<void> {
  await writeColours(storeOf(config), env, state)
}

export async function coloursOf(config: Config, env: string): Promise<ColourState> {
  return readColours(storeOf(config), env)
}

/** A lock held by `holder`, as a run or a hold would have taken it. */
export async function givenLock(config: Config, env: string, holder: LockInfo): Promise<void> {
  await acquireLock(storeOf(config), env, holder, silentReporter, localRuns())
}

export async function lockOf(config: Config, env: string): Promise<LockInfo | undefined> {
  return readLock(storeOf(config), env)
}

/** The environment's audit log, one entry a line; none when it has no log. */
export async function auditOf(config: Config, env: string): Promise<AuditEntry[]> {
  const store = storeOf(config)
  const text = (await store.files.read(auditPath(store.dir, env))) ?? ''
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry)
}

/** A release's recorded config, as the flow wrote it. */
export async function recordedConfigOf(config: Config, env: string, configFile: string): Promise<string> {
  const store = storeOf(config)
  return (await store.files.read(configPath(store.dir, env, configFile))) ?? ''
}
