import { describe, expect, it } from 'vitest'

import { edgeCheck } from '../../../../src/strategy/blueGreen/doctor.js'
import { localTarget } from '../../../../src/target/local.js'
import { environmentOf, useTestApp } from '../../support/config.js'
import { testDeps } from '../../support/deps.js'
import { fakeRunner } from '../../support/fakeRunner.js'

/** The doctor's edge check, asked of each engine for its environments (SPEC §10): the edge of that engine's host. */

const app = useTestApp()
const ENGINE = 'unix:///b/docker.sock'

describe('edgeCheck', () => {
  it("looks for the edge on the engine of the target it is given, never on the shell's", async () => {
    const there = fakeRunner().expect(`docker --host ${ENGINE} ps --all --no-trunc --filter label=com.docker.compose.project=berth-edge`, { stdout: '' })
    const hostB = { ...localTarget({ stateDir: app.config.stateDir, run: there.run, engine: { host: ENGINE } }), description: 'ssh://root@b' }
    const check = await edgeCheck(testDeps({ run: there.run, target: hostB }), app.config, [environmentOf(app.config, 'production')])
    expect(there.pending()).toEqual([])
    expect(check).toMatchObject({ id: 'edge', status: 'fail', details: ['the edge (compose project berth-edge) is not running'] })
  })
})
