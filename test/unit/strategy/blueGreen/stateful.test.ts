import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'

import type { Deps } from '../../../../src/run/context.js'
import { keepUnchangedStateful } from '../../../../src/strategy/blueGreen/stateful.js'
import { silentReporter } from '../../../../src/progress.js'
import { localTarget } from '../../../../src/target/local.js'
import { NO_STATE } from '../../support/deps.js'

const service = (tag: string, image: string, env = 'a') => ({
  image,
  environment: { MODE: env },
  labels: { 'berth.app': 'shop', 'berth.env': 'production', 'berth.release': tag },
})

function deps(identities: Record<string, string>): { deps: Deps; calls: string[][] } {
  const calls: string[][] = []
  return {
    calls,
    deps: {
      target: localTarget({ stateDir: NO_STATE }),
      targetOf: () => localTarget({ stateDir: NO_STATE }),
      run: async (argv) => {
        calls.push([...argv])
        const refs = argv.slice(5)
        return { stdout: refs.map((r) => identities[r] ?? 'missing').join('\n'), stderr: '', exitCode: 0 }
      },
      reporter: silentReporter,
      probe: async () => ({ ok: true, detail: '' }),
      sleep: async () => {},
      now: () => new Date(0),
    },
  }
}

describe('keepUnchangedStateful', () => {
  it('keeps the running definition of a service that differs only by the release tag', async () => {
    const current = stringify({ services: { db: service('T1', 'postgres:16') } })
    const next = stringify({ services: { db: service('T2', 'postgres:16') } })
    const { deps: d, calls } = deps({})
    const result = await keepUnchangedStateful(d, next, current)
    expect(result.kept).toEqual(['db'])
    expect(result.yaml).toContain('berth.release: T1')
    expect(calls).toHaveLength(0)
  })

  it('keeps a built service whose new image runs the same, and replaces one whose image changed', async () => {
    const current = stringify({ services: { store: service('T1', 'shop-store:T1'), cache: service('T1', 'shop-cache:T1') } })
    const next = stringify({ services: { store: service('T2', 'shop-store:T2'), cache: service('T2', 'shop-cache:T2') } })
    const { deps: d } = deps({ 'shop-store:T1': 'L1', 'shop-store:T2': 'L1', 'shop-cache:T1': 'L1', 'shop-cache:T2': 'L2' })
    const result = await keepUnchangedStateful(d, next, current)
    expect(result.kept).toEqual(['store'])
    expect(result.yaml).toContain('image: shop-store:T1')
    expect(result.yaml).toContain('image: shop-cache:T2')
  })

  it('applies a changed configuration, and everything on the first deploy', async () => {
    const current = stringify({ services: { db: service('T1', 'postgres:16', 'a') } })
    const next = stringify({ services: { db: service('T2', 'postgres:16', 'b') } })
    expect((await keepUnchangedStateful(deps({}).deps, next, current)).kept).toEqual([])
    expect(await keepUnchangedStateful(deps({}).deps, next, undefined)).toEqual({ yaml: next, kept: [] })
  })
})
