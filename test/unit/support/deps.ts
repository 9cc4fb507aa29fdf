import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Deps } from '../../../src/run/context.js'
import type { Runner } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import { localTarget } from '../../../src/target/local.js'

/** A state directory no test writes to, for the services that read no state. */
export const NO_STATE = join(tmpdir(), 'berth-unit-no-state')

/**
 * Dependencies of a service for unit tests: the local target with the given runner (so argv is exactly what
 * it is on this machine's engine), a silent reporter, probes that answer, and no waiting.
 */
export function testDeps(over: Partial<Deps> & { run?: Runner; stateDir?: string } = {}): Deps {
  const run: Runner = over.run ?? (async (argv) => {
    throw new Error(`unscripted command: ${argv.join(' ')}`)
  })
  const { stateDir = NO_STATE, ...rest } = over
  const target = over.target ?? localTarget({ run, stateDir })
  return {
    target,
    run,
    reporter: silentReporter,
    probe: async () => ({ ok: true, detail: 'HTTP 200' }),
    sleep: async () => {},
    now: () => new Date(),
    ...rest,
  }
}
