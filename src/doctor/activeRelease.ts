import type { EnvironmentConfig } from '../config/types.js'
import { recordedModel } from '../health/gate.js'
import type { ComposeModel } from '../release/model.js'
import { readOrDamaged } from '../state/damage.js'
import type { Deps } from '../run/context.js'
import { findActive, readReleases, type ReleaseRecord } from '../state/releases.js'

/** What an environment's release records say runs: read once, compared by the restart, drift and port checks. */
export interface ActiveRelease {
  env: EnvironmentConfig
  record?: ReleaseRecord
  /** The record's resolved config; undefined when there is no active release or its file is gone. */
  model?: ComposeModel
  /** The release records do not read (the state check's finding). */
  damaged?: true
}

export async function readActiveRelease(deps: Pick<Deps, 'target'>, env: EnvironmentConfig): Promise<ActiveRelease> {
  // Damaged records are the state check's finding: the other checks see no active release.
  const read = await readOrDamaged(readReleases(deps.target.state, env.name))
  if (!read.ok) return { env, damaged: true }
  const record = findActive(read.value)
  if (!record) return { env }
  try {
    return { env, record, model: await recordedModel({ env, target: deps.target }, record) }
  } catch {
    return { env, record }
  }
}
