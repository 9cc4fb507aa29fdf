import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { localTarget } from '../../../../src/target/local.js'
import type { Target } from '../../../../src/target/target.js'
import { beforeChange } from '../../../../src/strategy/blueGreen/preflight.js'
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
