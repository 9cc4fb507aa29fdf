import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../../src/config/types.js'
import { SHELL_ENGINE } from '../../../../src/docker/engine.js'
import { inspectRestartPolicies } from '../../../../src/docker/docker.js'
import { parsePs, parseRestartPolicies } from '../../../../src/docker/parse.js'
import type { RunOptions } from '../../../../src/docker/runner.js'
import type { ActiveRelease } from '../../../../src/doctor/activeRelease.js'
import { readRestartPolicies, restartCheck } from '../../../../src/doctor/checks/restartPolicies.js'
import type { ComposeModel } from '../../../../src/release/model.js'
import { environmentConfig } from '../../fixtures.js'
import { testDeps } from '../../support/deps.js'
import { composeLabels, psLine } from '../../support/ps.js'
import { COMPOSE_SCHEME } from '../../../../src/names.js'

const env = (name: string, dir = '/srv/shop'): EnvironmentConfig => environmentConfig(name, dir)
const model = (services: ComposeModel['services']): ComposeModel => ({ services })

describe('restartCheck', () => {
  const actives: ActiveRelease[] = [
    {
      env: env('staging'),
      model: model({
        web: { restart: 'unless-stopped', depends_on: { migrate: { condition: 'service_completed_successfully' } } },
        worker: {},
        migrate: { restart: 'no' },
      }),
    },
    { env: env('production') },
  ]

  it('flags no and on-failure (they do not come back after a reboot), not a one-off service', () => {
    const containers = parsePs(
      [
        psLine('shop-staging-web-1', composeLabels('shop-staging', 'web')),
        psLine('shop-staging-worker-1', composeLabels('shop-staging', 'worker')),
        psLine('shop-staging-migrate-1', composeLabels('shop-staging', 'migrate'), { State: 'exited', Status: 'Exited (0) 1 hour ago' }),
        psLine('shop-production-web-1', composeLabels('shop-production', 'web')),
      ].join('\n'), COMPOSE_SCHEME,
    )
    const inspect = [
      '{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"unless-stopped"}',
      '{"id":"shop-staging-worker-1-id","name":"/shop-staging-worker-1","restart":"no"}',
      '{"id":"shop-staging-migrate-1-id","name":"/shop-staging-migrate-1","restart":"no"}',
      '{"id":"shop-production-web-1-id","name":"/shop-production-web-1","restart":"on-failure"}',
    ].join('\n')
    const check = restartCheck(actives, containers, parseRestartPolicies(inspect))
    expect(check.status).toBe('fail')
    expect(check.details).toEqual(['shop-staging-worker-1 (staging/worker): restart no', 'shop-production-web-1 (production/web): restart on-failure'])
    expect(check.hint).toContain('restart: unless-stopped')
  })

  it("leaves a Swarm task's container to Swarm, which restarts or replaces it under the service's policy", () => {
    const containers = parsePs(psLine('shop-staging_web.1.x1', { ...composeLabels('shop-staging', 'web'), 'com.docker.swarm.task.id': 'x1' }), COMPOSE_SCHEME)
    const check = restartCheck(actives, containers, parseRestartPolicies('{"id":"shop-staging_web.1.x1-id","name":"/shop-staging_web.1.x1","restart":"no"}'))
    expect(check).toMatchObject({ status: 'ok', details: [] })
  })

  it('is ok when every long-running container restarts; inspect reads no more than the policy', () => {
    const containers = parsePs(psLine('shop-staging-web-1', composeLabels('shop-staging', 'web')), COMPOSE_SCHEME)
    const check = restartCheck(actives, containers, parseRestartPolicies('{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"always"}'))
    expect(check).toMatchObject({ status: 'ok', summary: '1 long-running container restarts after a reboot' })
    expect(inspectRestartPolicies(SHELL_ENGINE, ['a', 'b'])).toEqual([
      'docker', 'inspect', '--type', 'container', '--format',
      '{"id":{{json .Id}},"name":{{json .Name}},"restart":{{json .HostConfig.RestartPolicy.Name}}}',
      'a', 'b',
    ])
  })
})

describe('readRestartPolicies', () => {
  it("inspects the app's containers once, leaving out other projects and `compose run` containers", async () => {
    const calls: { argv: readonly string[]; options: RunOptions | undefined }[] = []
    const deps = testDeps({
      run: async (argv, options) => {
        calls.push({ argv, options })
        return { stdout: '{"id":"shop-staging-web-1-id","name":"/shop-staging-web-1","restart":"always"}', stderr: '', exitCode: 1 }
      },
    })
    const running = parsePs(
      [
        psLine('shop-staging-web-1', composeLabels('shop-staging', 'web')),
        psLine('shop-staging-web-run-1', { ...composeLabels('shop-staging', 'web'), 'com.docker.compose.oneoff': 'True' }),
        psLine('legacy-nginx-1', composeLabels('legacy', 'nginx')),
      ].join('\n'), COMPOSE_SCHEME,
    )
    const read = await readRestartPolicies(deps, [env('staging'), env('production')], running)
    expect(read.containers.map((c) => c.name)).toEqual(['shop-staging-web-1'])
    expect(read.policies).toEqual([{ id: 'shop-staging-web-1-id', name: 'shop-staging-web-1', restart: 'always' }])
    // A container removed between ps and inspect makes inspect exit 1: the others are still read.
    expect(calls).toEqual([{ argv: inspectRestartPolicies(SHELL_ENGINE, ['shop-staging-web-1-id']), options: { allowFailure: true } }])
  })

  it('asks nothing when the app has no containers', async () => {
    expect(await readRestartPolicies(testDeps(), [env('staging')], parsePs(psLine('legacy-nginx-1', composeLabels('legacy', 'nginx')), COMPOSE_SCHEME))).toEqual({ containers: [], policies: [] })
  })
})
