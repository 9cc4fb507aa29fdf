import { describe, expect, it } from 'vitest'

import type { Config } from '../../../../src/config/types.js'
import { parsePs } from '../../../../src/docker/parse.js'
import type { ActiveRelease } from '../../../../src/doctor/activeRelease.js'
import { driftCheck, readDrift } from '../../../../src/doctor/checks/drift.js'
import type { ReleaseRecord } from '../../../../src/state/releases.js'
import { environmentConfig } from '../../fixtures.js'
import { composeLabels, psLine } from '../../support/ps.js'
import { testDeps } from '../../support/deps.js'
import { COMPOSE_SCHEME } from '../../../../src/names.js'

const TAG = '20261122-093000'
const record: ReleaseRecord = { tag: TAG, deployedAt: '2026-11-22T09:30:00.000Z', by: 'a@b', status: 'active', images: { web: `shop-web:${TAG}`, worker: `shop-worker:${TAG}` }, builtImages: [], envHash: 'x', configFile: `${TAG}.compose.yaml`, configHashes: { web: 'a'.repeat(64), worker: 'a'.repeat(64) } }
const staging = environmentConfig('staging', '/srv/shop')
const production = environmentConfig('production', '/srv/shop')
const config: Config = { app: 'shop', file: '/srv/shop/deploy.yml', dir: '/srv/shop', stateDir: '/srv/shop/.berth', edge: { image: 'caddy:2' }, environments: new Map([['staging', staging], ['production', production]]) }
const labels = (project: string, env: string, service: string) => ({ ...composeLabels(project, service), 'berth.app': 'shop', 'berth.env': env, 'berth.release': TAG })

describe('readDrift', () => {
  it('compares what serves with the active record, and leaves out an environment whose records are damaged', async () => {
    const containers = parsePs(
      [
        psLine('shop-staging-web-1', labels('shop-staging', 'staging', 'web'), { Image: `shop-web:${TAG}` }),
        // Another project's worker is not staging's, however it is labelled.
        psLine('legacy-worker-1', labels('legacy', 'staging', 'worker'), { Image: `shop-worker:${TAG}` }),
        psLine('shop-production-web-1', labels('shop-production', 'production', 'web'), { Image: `shop-web:${TAG}` }),
      ].join('\n'), COMPOSE_SCHEME,
    )
    const actives: ActiveRelease[] = [{ env: staging, record }, { env: production, damaged: true }]
    const drift = await readDrift(testDeps({ stateDir: config.stateDir }), config, actives, containers, '2.26.1')
    expect(drift.map((d) => [d.environment, d.drift.map((i) => [i.kind, i.service])])).toEqual([['staging', [['missing', 'worker']]]])
  })
})

describe('driftCheck', () => {
  it('is ok when every compared environment runs as recorded', () => {
    expect(driftCheck([{ environment: 'staging', drift: [] }], [{ env: staging, record }, { env: production }])).toEqual({ id: 'drift', status: 'ok', summary: '1 environment runs as recorded', details: [] })
  })

  it('warns with each difference and note, and the deploy that re-applies the active release', () => {
    const check = driftCheck(
      [
        { environment: 'staging', drift: [{ kind: 'missing', service: 'worker', message: `no container, though release ${TAG} runs worker` }] },
        { environment: 'production', drift: [{ kind: 'no-release', service: 'web', container: 'shop-production-web-1', message: 'no active release records it' }], driftNote: 'config not compared' },
      ],
      [{ env: staging, record }, { env: production }],
    )
    expect(check).toMatchObject({ status: 'warn', summary: 'staging, production differ from the active release record' })
    expect(check.details).toEqual([
      `staging: worker: no container, though release ${TAG} runs worker`,
      'production: web shop-production-web-1: no active release records it',
      'production: config not compared',
    ])
    expect(check.hint).toBe(`Put any change you mean to keep into the compose files or env file, then re-apply: berth deploy staging --tag ${TAG}; berth deploy production`)
  })
})
