import { describe, expect, it } from 'vitest'

import { EngineUnavailableError } from '../../../../src/errors.js'
import { edgeCheck } from '../../../../src/strategy/blueGreen/doctor.js'
import { localTarget } from '../../../../src/target/local.js'
import type { Target } from '../../../../src/target/target.js'
import { environmentOf, useTestApp } from '../../support/config.js'
import { testDeps } from '../../support/deps.js'
import { fakeRunner } from '../../support/fakeRunner.js'

/** The doctor's edge check, per host (SPEC §10): each environment against the edge of the host it runs on. */

const app = useTestApp()
const ENGINE = 'unix:///b/docker.sock'

function hostB(run: ReturnType<typeof fakeRunner>['run']): Target {
  return { ...localTarget({ stateDir: app.config.stateDir, run, engine: { host: ENGINE } }), description: 'ssh://root@b' }
}

describe('edgeCheck', () => {
  it("checks the edge of the host a blue-green environment runs on, naming that host, and not this machine's", async () => {
    const here = fakeRunner()
    const there = fakeRunner().expect(`docker --host ${ENGINE} ps`, { stdout: '' })
    const remote = hostB(there.run)
    const deps = { ...testDeps({ run: here.run, stateDir: app.config.stateDir }), targetOf: () => remote }
    const check = await edgeCheck(deps, app.config, [environmentOf(app.config, 'production')])
    expect(here.calls).toEqual([])
    expect(there.pending()).toEqual([])
    expect(check).toMatchObject({ id: 'edge', status: 'fail', details: ['ssh://root@b: the edge (compose project berth-edge) is not running'] })
  })

  it('reports a host whose engine does not answer as a finding of its own, and still checks this machine', async () => {
    const here = fakeRunner().expect('docker ps', { stdout: '' })
    const remote = hostB(async () => {
      throw new EngineUnavailableError('cannot reach ssh://root@b: the connection was refused')
    })
    const production = environmentOf(app.config, 'production')
    const local = { ...production, name: 'preview' }
    const base = testDeps({ run: here.run, stateDir: app.config.stateDir })
    const deps = { ...base, targetOf: (env: { name: string }) => (env.name === 'production' ? remote : base.target) }
    const check = await edgeCheck(deps, app.config, [local, production])
    expect(here.pending()).toEqual([])
    expect(check.details).toEqual([
      'the edge (compose project berth-edge) is not running',
      'ssh://root@b: cannot check its edge: cannot reach ssh://root@b: the connection was refused',
    ])
  })
})
