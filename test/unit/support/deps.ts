import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Config } from '../../../src/config/types.js'
import type { Deps } from '../../../src/run/context.js'
import type { Runner } from '../../../src/docker/runner.js'
import { type Reporter, silentReporter } from '../../../src/progress.js'
import type { ProbeResult } from '../../../src/health/wait.js'
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
    targetOf: () => target,
    run,
    reporter: silentReporter,
    probe: async () => ({ ok: true, detail: 'HTTP 200' }),
    sleep: async () => {},
    now: () => new Date(),
    ...rest,
  }
}

/** A clock that moves on by `stepMs` each time it is read, so health waits and durations advance without sleeping. */
export function steppingClock(start: string, stepMs = 100): () => Date {
  let now = new Date(start).getTime()
  return () => {
    const at = new Date(now)
    now += stepMs
    return at
  }
}

/** What a flow told the operator: warnings, infos, log excerpts and step titles, in order of each kind. */
export interface Told {
  steps: string[]
  infos: string[]
  warnings: string[]
  blocks: { title: string; lines: readonly string[] }[]
}

export function recordingReporter(): { reporter: Reporter; told: Told } {
  const told: Told = { steps: [], infos: [], warnings: [], blocks: [] }
  const reporter: Reporter = {
    step: (title, body) => {
      told.steps.push(title)
      return body(() => {})
    },
    info: (m) => told.infos.push(m),
    warn: (m) => told.warnings.push(m),
    block: (title, lines) => told.blocks.push({ title, lines }),
  }
  return { reporter, told }
}

/** The time flow tests start at: a deploy then tags its release 20261122-100000. */
export const FLOW_START = '2026-11-22T10:00:00.000Z'

/** Dependencies of a flow test of the app `config`: its state, the scripted runner, a recording reporter and a stepping clock from FLOW_START. */
export function flowDeps(config: Pick<Config, 'stateDir'>, run: Runner, over: Partial<Deps> = {}): { deps: Deps; told: Told } {
  const { reporter, told } = recordingReporter()
  return { deps: testDeps({ run, stateDir: config.stateDir, reporter, now: steppingClock(FLOW_START), ...over }), told }
}

/**
 * HTTP probes answered in turn from `answers` (the last one repeats), each noted in the runner's log as
 * `probe <url>` so a sequence shows where probes come between commands.
 */
export function scriptedProbe(log: { note(event: string): void }, answers: ProbeResult[] = [{ ok: true, detail: 'HTTP 200' }]): Deps['probe'] {
  const left = [...answers]
  return async (p) => {
    log.note(`probe ${p.url}${p.host ? ` (Host: ${p.host})` : ''}`)
    return (left.length > 1 ? left.shift() : left[0]) as ProbeResult
  }
}
