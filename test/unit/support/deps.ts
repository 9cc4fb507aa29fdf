import type { Deps } from '../../../src/run/context.js'
import type { Runner } from '../../../src/docker/runner.js'
import { silentReporter } from '../../../src/progress.js'
import { localTarget } from '../../../src/target/local.js'

/**
 * Dependencies of a service for unit tests: the local target with the given runner (so argv is exactly what
 * it is on this machine's engine), a silent reporter, probes that answer, and no waiting.
 */
export function testDeps(over: Partial<Deps> & { run?: Runner } = {}): Deps {
  const run: Runner = over.run ?? (async (argv) => {
    throw new Error(`unscripted command: ${argv.join(' ')}`)
  })
  const target = over.target ?? localTarget({ run })
  return {
    target,
    run,
    reporter: silentReporter,
    probe: async () => ({ ok: true, detail: 'HTTP 200' }),
    sleep: async () => {},
    now: () => new Date(),
    ...over,
  }
}
