import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { writeReleases } from '../../../../src/state/releases.js'
import { pushAndPin, recordedPins } from '../../../../src/strategy/swarm/images.js'
import { localTarget } from '../../../../src/target/local.js'
import { record } from '../../support/operated.js'
import { fakeRunner } from '../../support/fakeRunner.js'

const TAG = '20261202-101500'
const WEB = `127.0.0.1:5000/shop-web:${TAG}`
const DIGEST = `sha256:${'a'.repeat(64)}`
const OTHER = `sha256:${'b'.repeat(64)}`

let stateDir = ''
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'berth-swarm-images-'))
})
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true })
})

describe('recordedPins', () => {
  it("finds the tag's digests in any environment's records, never in a failed one", async () => {
    const target = localTarget({ stateDir })
    await writeReleases(target.state, 'staging', [{ ...record(TAG, 'active'), images: { web: `${WEB}@${DIGEST}`, cache: 'redis:7' } }])
    await writeReleases(target.state, 'qa', [{ ...record(TAG, 'failed'), images: { web: `${WEB}@${OTHER}` } }])
    await writeReleases(target.state, 'production', [{ ...record('20261201-080000', 'active'), images: { web: `127.0.0.1:5000/shop-web:20261201-080000@${OTHER}` } }])
    expect([...(await recordedPins({ target }, TAG))]).toEqual([[WEB, `${WEB}@${DIGEST}`]])
  })
})

describe('pushAndPin', () => {
  it('pins a --tag release by its recorded digest without asking the engine, and pushes nothing', async () => {
    const runner = fakeRunner()
    const target = localTarget({ stateDir, run: runner.run })
    const images = await pushAndPin({ run: runner.run, target }, { web: WEB }, [], new Map([[WEB, `${WEB}@${DIGEST}`]]), () => {})
    expect(images).toEqual({ web: `${WEB}@${DIGEST}` })
    expect(runner.calls).toEqual([])
  })

  it('pins a built image by the digest its push gave', async () => {
    const runner = fakeRunner()
      .expect(`docker image push --quiet ${WEB}`)
      .expect('docker image inspect', { stdout: JSON.stringify([`127.0.0.1:5000/shop-web@${DIGEST}`]) })
    const target = localTarget({ stateDir, run: runner.run })
    expect(await pushAndPin({ run: runner.run, target }, { web: WEB }, [WEB], new Map(), () => {})).toEqual({ web: `${WEB}@${DIGEST}` })
  })

  it('pushes nothing for a built image a record already pins (deploy --tag of it, a re-deploy)', async () => {
    const runner = fakeRunner()
    const target = localTarget({ stateDir, run: runner.run })
    expect(await pushAndPin({ run: runner.run, target }, { web: WEB }, [WEB], new Map([[WEB, `${WEB}@${OTHER}`]]), () => {})).toEqual({ web: `${WEB}@${OTHER}` })
    expect(runner.calls).toEqual([])
  })
})
