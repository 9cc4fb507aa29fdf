import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { localTarget } from '../../../../src/target/local.js'
import type { Target } from '../../../../src/target/target.js'
import type { EnvironmentConfig } from '../../../../src/config/types.js'
import { beforeChange, plan } from '../../../../src/strategy/blueGreen/preflight.js'
import { environmentOf, useTestApp } from '../../support/config.js'
import { testDeps } from '../../support/deps.js'
import { fakeRunner } from '../../support/fakeRunner.js'

/**
 * beforeChange of blue-green: root is needed on the edge's host (SPEC §9), so the uid that counts is
 * berth's there — this process's on this machine, its SSH login's on another host (SPEC §10) — and the
 * admin directory checked is the one in that host's edge directory.
 */

const app = useTestApp()
const ENGINE = 'unix:///b/docker.sock'

/** The local target, its host seen as another one (an edge directory there, compose files here) when `remote`. */
function targetWith(run: ReturnType<typeof fakeRunner>['run'], uid: number, remote: boolean): { target: Target; stats: string[] } {
  const local = localTarget({ stateDir: app.config.stateDir, run, ...(remote ? { engine: { host: ENGINE } } : {}) })
  const stats: string[] = []
  const files = {
    ...local.host.files,
    stat: async (path: string) => {
      stats.push(path)
      return undefined
    },
  }
  const host = remote
    ? { ...local.host, files, uid: async () => uid, edgeDir: async () => '/srv/host-b/edge', edgeWorkDir: join(app.dir, 'work', 'edge') }
    : { ...local.host, files, uid: async () => uid }
  return { target: { ...local, ...(remote ? { description: 'ssh://deploy@host-b' } : {}), host }, stats }
}

describe('blue-green beforeChange', () => {
  it("refuses (exit 2, before anything runs) when the SSH login on the edge's host is not root, whatever this process is", async () => {
    const runner = fakeRunner()
    const { target } = targetWith(runner.run, 1000, true)
    const error = await beforeChange(testDeps({ run: runner.run, target }), app.config, environmentOf(app.config, 'production')).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'EDGE_ROOT_ONLY', exitCode: 2 })
    expect((error as Error).message).toBe("blue-green environments need root: the edge's admin API on ssh://deploy@host-b is reachable by root only, and berth's SSH login there is uid 1000")
    expect((error as { hint?: string }).hint).toMatch(/^Log in as root there/)
    expect(runner.calls).toEqual([])
  })

  it("goes on with a root login there, checking the admin directory in that host's edge directory", async () => {
    const runner = fakeRunner().expect(`docker --host ${ENGINE} ps`, { stdout: '' })
    const { target, stats } = targetWith(runner.run, 0, true)
    await beforeChange(testDeps({ run: runner.run, target }), app.config, environmentOf(app.config, 'production'))
    expect(runner.pending()).toEqual([])
    expect(stats).toEqual(['/srv/host-b/edge/admin'])
  })

  it('refuses a run on this machine by its own uid, as before there were other hosts', async () => {
    const runner = fakeRunner()
    const { target } = targetWith(runner.run, 1000, false)
    const error = await beforeChange(testDeps({ run: runner.run, target }), app.config, environmentOf(app.config, 'production')).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'EDGE_ROOT_ONLY', hint: 'Run berth as root (sudo berth …). Nothing was changed.' })
    expect((error as Error).message).toMatch(/and berth runs as uid 1000$/)
  })
})

describe('blue-green plan: port 80 for the redirect to https', () => {
  /** /proc/net/tcp with one socket listening on 0.0.0.0:`port`. */
  const listening = (port: number) =>
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    `   0: 00000000:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n` +
    '   1: 0100007F:9C40 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1\n'
  const https = { listen: 443, service: 'web', port: 8080, host: 'shop.test', tls: 'internal' as const }
  const model = { services: { web: { image: 'shop-web' } } }

  function planWith(sockets: string, routes: EnvironmentConfig['routes']) {
    // No edge container: the edge would be started, so it listens on nothing yet.
    const runner = fakeRunner().expect('docker ps', { stdout: '' })
    const local = localTarget({ stateDir: app.config.stateDir, run: runner.run })
    const target: Target = { ...local, host: { ...local.host, tcpSockets: async () => sockets } }
    const env = { ...environmentOf(app.config, 'production'), stateful: [], routes }
    return plan(testDeps({ run: runner.run, target }), { config: app.config, env, target, vars: {} }, model)
  }

  it("refuses (exit 2) an HTTPS route on 443 when another process of the host listens on port 80, naming the host it would redirect", async () => {
    const error = await planWith(listening(80), [https]).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'PORT_IN_USE', exitCode: 2 })
    expect((error as Error).message).toBe(
      "production: port 80 is taken on the edge's host by something other than the edge, and the edge needs it to redirect shop.test to https (routes with tls on listen 443)",
    )
  })

  it('asks for port 80 among the published ports when it is free, and not at all without a redirect', async () => {
    const free = await planWith(listening(8080), [https])
    expect(free.published.services['edge route']?.ports).toEqual([{ target: 8080, published: '443' }, { target: 80, published: '80' }])
    // tls on another port, or the host routed on 80 by the environment itself: nothing is redirected, and only the routes' ports are asked for.
    for (const routes of [[{ ...https, listen: 8443 }], [https, { ...https, listen: 80, tls: 'off' as const }]]) {
      const other = await planWith(listening(80), routes)
      expect(other.published.services['edge route']?.ports?.map((p) => p.published)).toEqual(routes.map((r) => String(r.listen)))
    }
  })
})
