import { hostname } from 'node:os'
import { writeFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'

import { readEnvFile } from '../../../src/config/envFile.js'
import type { Config, Webhook } from '../../../src/config/types.js'
import type { Env } from '../../../src/health/gate.js'
import { engineHost, notify } from '../../../src/notify/notify.js'
import type { DeliveryPolicy } from '../../../src/notify/webhooks.js'
import type { RunOutcome } from '../../../src/run/lockedRun.js'
import { mask } from '../../../src/secrets.js'
import { appendAudit } from '../../../src/state/audit.js'
import { localTarget } from '../../../src/target/local.js'
import { environmentOf, useTestApp, withEnvironment } from '../support/config.js'
import { flowDeps } from '../support/deps.js'
import { fakeRunner } from '../support/fakeRunner.js'
import { auditOf } from '../support/state.js'
import { QUICK_DELIVERY, webhookServers } from '../support/webhookServer.js'

const app = useTestApp()
const QUICK: DeliveryPolicy = QUICK_DELIVERY
/** Not named like a secret: the URL's own masking is what hides it. */
const HOOK_PATH = 'T024BE7LD/B01/xq3v9z2kWJ8fJ0bLrM'

const { server, closeAll } = webhookServers()
afterEach(closeAll)

/** staging of the test app with these webhooks, its env file giving CHAT_HOOK, read as a deploy reads it. */
async function staging(notify: Webhook[]): Promise<{ e: Env; config: Config }> {
  const config = withEnvironment(app.config, 'staging', { notify })
  const env = environmentOf(config, 'staging')
  await writeFile(env.envFile, `APP_ENV=staging\nCHAT_HOOK=${HOOK_PATH}\n`)
  return { config, e: { config, env, target: localTarget({ run: fakeRunner().run, stateDir: config.stateDir }), vars: await readEnvFile(env) } }
}

const ROLLED_BACK: RunOutcome = {
  action: 'deploy',
  result: 'rolled-back',
  tag: '20261122-100000',
  from: '20261121-090000',
  by: 'ana@ops-1',
  startedAt: '2026-11-22T10:00:00.000Z',
  durationMs: 4200,
  reason: 'staging 20261122-100000 is not healthy (service web failed: unhealthy); rolled back to 20261121-090000',
}

describe('notify', () => {
  it('POSTs the notification to each webhook whose on: lists the result, and to no other', async () => {
    const chat = await server()
    const pager = await server()
    const { e, config } = await staging([
      { url: `${chat.origin}/hooks/\${CHAT_HOOK}`, on: ['ok', 'failed', 'rolled-back', 'needs-person'] },
      { url: `${pager.origin}/page`, on: ['needs-person'] },
    ])
    const { deps, told } = flowDeps(config, fakeRunner().run)

    await notify(deps, e, ROLLED_BACK, QUICK)

    expect(pager.received).toHaveLength(0)
    expect(chat.received).toHaveLength(1)
    expect(chat.received[0]?.path).toBe(`/hooks/${HOOK_PATH}`)
    expect(JSON.parse(chat.received[0]?.body ?? '')).toEqual({
      action: 'deploy',
      app: 'shop',
      env: 'staging',
      release: '20261122-100000',
      previous: '20261121-090000',
      result: 'rolled-back',
      duration: 4200,
      who: 'ana@ops-1',
      host: hostname(),
      reason: ROLLED_BACK.reason,
    })
    expect(told.warnings).toEqual([])
    expect(told.infos).toEqual(['notifying webhook #1 of staging: rolled-back'])
  })

  it('sends null for a release or previous the run did not get to, and no reason when ok', async () => {
    const s = await server()
    const { e, config } = await staging([{ url: `${s.origin}/x`, on: ['ok', 'failed'] }])
    const { deps } = flowDeps(config, fakeRunner().run)
    await notify(deps, e, { action: 'deploy', result: 'ok', by: 'ana@ops-1', startedAt: ROLLED_BACK.startedAt, durationMs: 10 }, QUICK)
    const body = JSON.parse(s.received[0]?.body ?? '') as Record<string, unknown>
    expect(body).toMatchObject({ release: null, previous: null, result: 'ok' })
    expect(body).not.toHaveProperty('reason')
  })

  it('warns, masked, when a webhook fails for good, and never throws; the URL appears nowhere, even echoed by the endpoint', async () => {
    // The endpoint's error echoes the path it was asked for: the token.
    const s = await server(() => ({ status: 500, body: `unknown hook ${HOOK_PATH}` }))
    const { e, config } = await staging([{ url: `${s.origin}/hooks/\${CHAT_HOOK}`, on: ['rolled-back'] }])
    const { deps, told } = flowDeps(config, fakeRunner().run)

    await expect(notify(deps, e, ROLLED_BACK, QUICK)).resolves.toBeUndefined()

    expect(s.received).toHaveLength(3)
    expect(told.warnings).toEqual(['webhook #1 of staging was not delivered after 3 tries (HTTP 500: unknown hook ****); the deploy itself is unaffected'])
    // The URL as written, filled in, and its path alone are masked wherever they would appear: output, errors, the audit log.
    const url = `${s.origin}/hooks/${HOOK_PATH}`
    expect(mask(`POST ${url} failed`)).toBe('POST **** failed')
    expect(mask(`POST ${s.origin}/hooks/\${CHAT_HOOK}`)).toBe('POST ****')
    await appendAudit(deps.target.state, 'staging', { action: 'deploy', by: 'ana@ops-1', at: ROLLED_BACK.startedAt, result: 'UNEXPECTED', message: `request to ${url} failed` })
    expect(JSON.stringify(await auditOf(config, 'staging'))).not.toContain(HOOK_PATH)
    expect([...told.infos, ...told.warnings].join('\n')).not.toContain(HOOK_PATH)
  })

  it('gives up on an endpoint that never answers within the deadline, with a warning', async () => {
    const s = await server(() => 'hang')
    const { e, config } = await staging([{ url: `${s.origin}/hooks/\${CHAT_HOOK}`, on: ['rolled-back'] }])
    const { deps, told } = flowDeps(config, fakeRunner().run)
    const started = performance.now()

    await notify(deps, e, ROLLED_BACK, QUICK)

    expect(performance.now() - started).toBeLessThan(QUICK.deadlineMs + 400)
    expect(s.received.length).toBeGreaterThanOrEqual(2)
    expect(told.warnings).toEqual([expect.stringMatching(/^webhook #1 of staging was not delivered after [23] tries \(no answer.*0\.8s limit\); the deploy itself is unaffected$/)])
  })

  it('sends nothing for actions other than deploy and rollback', async () => {
    const s = await server()
    const { e, config } = await staging([{ url: `${s.origin}/x`, on: ['ok'] }])
    const { deps, told } = flowDeps(config, fakeRunner().run)
    await notify(deps, e, { ...ROLLED_BACK, action: 'down', result: 'ok' }, QUICK)
    expect(s.received).toHaveLength(0)
    expect(told.infos).toEqual([])
  })
})

describe('engineHost', () => {
  it("names this machine, the SSH host or the Docker context", () => {
    const env = environmentOf(app.config, 'staging')
    expect(engineHost(env)).toBe(hostname())
    expect(engineHost({ ...env, location: { kind: 'ssh', url: 'ssh://deploy@10.0.0.5', user: 'deploy', host: '10.0.0.5', connectTimeoutMs: 10_000 } })).toBe('10.0.0.5')
    expect(engineHost({ ...env, location: { kind: 'context', name: 'prod-eu', connectTimeoutMs: 10_000 } })).toBe('context prod-eu')
  })
})
