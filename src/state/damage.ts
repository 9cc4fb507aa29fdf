import { StateDamagedError } from '../errors.js'
import type { StateStore } from '../target/target.js'
import { readLock } from './lock.js'
import { readReleases } from './releases.js'
import { readColours } from './colours.js'

/** A damaged state file as read-only commands show it: where, what is wrong, and the one command that fixes it. */
export interface DamagedFile {
  file: string
  problem: string
  fix: string
}

export type ReadOrDamaged<T> = { ok: true; value: T; damaged?: undefined } | { ok: false; damaged: DamagedFile; value?: undefined }

/** A read whose damaged file is shown rather than thrown (status, releases, doctor); other errors still throw. */
export async function readOrDamaged<T>(read: Promise<T>): Promise<ReadOrDamaged<T>> {
  try {
    return { ok: true, value: await read }
  } catch (error) {
    if (!(error instanceof StateDamagedError)) throw error
    return { ok: false, damaged: { file: error.file, problem: error.problem, fix: error.fix } }
  }
}

/** The environment's damaged state files, whatever its strategy today (doctor): records, colour state, lock. */
export async function damagedState(store: StateStore, env: string): Promise<DamagedFile[]> {
  const reads = await Promise.all([readOrDamaged(readReleases(store, env)), readOrDamaged(readColours(store, env)), readOrDamaged(readLock(store, env))])
  return reads.flatMap((r) => (r.ok ? [] : [r.damaged]))
}
