import { describe, expect, it } from 'vitest'

import { NeedsPersonError, RolledBackError } from '../../../src/errors.js'
import type { Env } from '../../../src/health/gate.js'
import type { Deps } from '../../../src/run/context.js'
import type { ReleaseRecord } from '../../../src/state/releases.js'
import { recreate } from '../../../src/strategy/recreate.js'
import { environmentOf, releaseRecord, useTestApp, withEnvironment } from '../support/config.js'
import { flowDeps, scriptedProbe } from '../support/deps.js'
import { callsTo, compact, containers, expectSequence, type FakeRunner, fakeRunner, filesOf, psOf } from '../support/fakeRunner.js'
import { givenConfigs } from '../support/state.js'

const app = useTestApp()

const NEW = '20261122-100000'
const PREVIOUS = '20261121-090000'

const healthy = containers('shop-staging', { web: 'running', db: 'healthy' })
const webExited = containers('shop-staging', { web: 'exited', db: 'healthy' })
const up = 'docker compose -p shop-staging up --detach --no-build --remove-orphans'
const logsOfWeb = 'docker compose -p shop-staging logs --no-color --tail 50 web'

/** The new release and the previous one, each with its recorded config. */
async function releases(): Promise<{ release: ReleaseRecord; previous: ReleaseRecord }> {
  const [release, previous] = await givenConfigs(app.config, 'staging', [releaseRecord(NEW, 'failed'), releaseRecord(PREVIOUS, 'active')])
  return { release: release!, previous: previous! }
}

function envOf(deps: Deps, config = app.config): Env {
  return { config, env: environmentOf(config, 'staging'), target: deps.target, vars: { APP_ENV: 'staging' } }
}

/** Options whose `failed` is noted in the runner's log, so a sequence shows when the release is recorded failed. */
function options(runner: FakeRunner, previous: ReleaseRecord | undefined) {
  return { previous, failed: async () => runner.note('recorded failed') }
}

describe('recreate.apply', () => {
  it("ups the release's recorded config on the environment's one project and waits until it is healthy, probes included", async () => {
    const { release, previous } = await releases()
    const config = withEnvironment(app.config, 'staging', { health: { timeoutMs: 10_000, intervalMs: 1000, http: [{ url: 'http://127.0.0.1:8080/health?env=${APP_ENV}' }] } })
    const runner = fakeRunner().expect(up).expect(psOf('shop-staging'), healthy)
    const { deps } = flowDeps(app.config, runner.run)
    deps.probe = scriptedProbe(runner, [{ ok: false, detail: 'connection refused' }, { ok: true, detail: 'HTTP 200' }])

    const applied = await recreate.apply(deps, envOf(deps, config), release, options(runner, previous))

    expectSequence(runner, [up, psOf('shop-staging'), 'probe http://127.0.0.1:8080/health?env=staging', 'probe http://127.0.0.1:8080/health?env=staging'])
    expect(callsTo(runner, up).map(filesOf)).toEqual([[release.configFile]])
    expect(applied).toEqual({ configHashes: { web: 'hash-shop-staging-web', db: 'hash-shop-staging-db' }, record: {} })
  })

  it('shows the logs, has the release recorded failed, then re-applies the previous one and throws RolledBackError (exit 3)', async () => {
    const { release, previous } = await releases()
    const runner = fakeRunner().expect(up).expect(psOf('shop-staging'), webExited).expect(logsOfWeb).expect(up).expect(psOf('shop-staging'), healthy)
    const { deps, told } = flowDeps(app.config, runner.run)

    const error = await recreate.apply(deps, envOf(deps), release, options(runner, previous)).catch((e: unknown) => e)

    expectSequence(runner, [up, psOf('shop-staging'), logsOfWeb, 'recorded failed', up, psOf('shop-staging')])
    expect(callsTo(runner, up).map(filesOf)).toEqual([[release.configFile], [previous.configFile]])
    expect(callsTo(runner, logsOfWeb).map(filesOf)).toEqual([[release.configFile]])
    expect(error).toBeInstanceOf(RolledBackError)
    expect(error).toMatchObject({ exitCode: 3, message: `staging ${NEW} is not healthy (service web failed: shop-staging-web-1 exited: Exited (1) 2 seconds ago); rolled back to ${PREVIOUS}, which is healthy` })
    expect(told.infos).toEqual([`rolling staging back to ${PREVIOUS}`])
  })

  it('throws NeedsPersonError (exit 4) with the logs of both when the previous release is not healthy either', async () => {
    const { release, previous } = await releases()
    const runner = fakeRunner().expect(up).expect(psOf('shop-staging'), webExited).expect(logsOfWeb).expect(up).expect(psOf('shop-staging'), webExited).expect(logsOfWeb)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await recreate.apply(deps, envOf(deps), release, options(runner, previous)).catch((e: unknown) => e)

    expectSequence(runner, [up, psOf('shop-staging'), logsOfWeb, 'recorded failed', up, psOf('shop-staging'), logsOfWeb])
    expect(callsTo(runner, logsOfWeb).map(filesOf)).toEqual([[release.configFile], [previous.configFile]])
    expect(error).toBeInstanceOf(NeedsPersonError)
    expect(error).toMatchObject({ exitCode: 4, hint: 'The environment needs a person: berth status staging; berth logs staging' })
  })

  it('throws NeedsPersonError (exit 4) and applies nothing more when there is no previous release', async () => {
    const { release } = await releases()
    const runner = fakeRunner().expect(up).expect(psOf('shop-staging'), webExited).expect(logsOfWeb)
    const { deps } = flowDeps(app.config, runner.run)

    const error = await recreate.apply(deps, envOf(deps), release, options(runner, undefined)).catch((e: unknown) => e)

    expectSequence(runner, [up, psOf('shop-staging'), logsOfWeb, 'recorded failed'])
    expect(error).toBeInstanceOf(NeedsPersonError)
    expect(error).toMatchObject({ exitCode: 4, hint: expect.stringContaining('The failed release is left running for inspection') as unknown })
  })
})

describe('recreate', () => {
  it('owns one project, and checks the host for the model as it is', async () => {
    const env = environmentOf(app.config, 'staging')
    const model = { services: { web: { ports: [{ target: 80, published: '8080' }], networks: { default: null } } } }
    const { deps } = flowDeps(app.config, fakeRunner().run)
    expect(recreate.projects(env)).toEqual(['shop-staging'])
    expect(await recreate.preflight(deps, envOf(deps), model)).toEqual({ networks: ['shop-staging_default'], published: model })
  })

  it('takes the environment down with compose down, removing volumes only when asked', async () => {
    const runner = fakeRunner().expect('docker compose -p shop-staging down --remove-orphans').expect('docker compose -p shop-staging down --remove-orphans --volumes')
    const { deps } = flowDeps(app.config, runner.run)
    const running = { engine: deps.target.engine, project: 'shop-staging', files: ['/app/compose.yaml'], envFile: '/app/staging.env', projectDirectory: '/app' }

    await recreate.down(deps, envOf(deps), running, false)
    await recreate.down(deps, envOf(deps), running, true)

    // Whole commands: a sequence's prefix match would not tell the first from the second.
    expect(runner.calls.map((c) => compact(c.argv))).toEqual(['docker compose -p shop-staging down --remove-orphans', 'docker compose -p shop-staging down --remove-orphans --volumes'])
  })
})
