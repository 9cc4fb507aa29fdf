import { describe, expect, it } from 'vitest'

import type { Container } from '../../../src/docker/parse.js'
import { startFailure } from '../../../src/edge/container.js'
import { localTarget } from '../../../src/target/local.js'
import { fakeRunner } from '../support/fakeRunner.js'

const container: Container = { id: 'c1', name: 'berth-edge-caddy-1', image: 'caddy:broken', state: 'running', health: '', status: 'Up 1 second', ports: '', labels: {}, createdAt: '2026-12-02 10:00:00 +0000 UTC' }

async function failure(state: { status: string; exitCode: number; restarts: number }): Promise<string> {
  const runner = fakeRunner().always('docker logs', { stdout: 'caddy: cannot start\n' })
  const target = localTarget({ stateDir: '/nonexistent', run: runner.run })
  return (await startFailure({ run: runner.run, target }, container, state)).message
}

describe('startFailure', () => {
  it('names the exit code a restarting container last had, with its restarts and last log lines', async () => {
    expect(await failure({ status: 'restarting', exitCode: 1, restarts: 2 })).toBe(
      "the edge proxy's container berth-edge-caddy-1 (caddy:broken) keeps restarting (exit code 1, restarted 2 times) before its admin API answered; its last log lines:\n  caddy: cannot start",
    )
  })

  it('claims no exit code when caught running between two restarts (the state says 0 then)', async () => {
    const message = await failure({ status: 'running', exitCode: 0, restarts: 1 })
    expect(message).toContain('keeps restarting (restarted 1 time) before')
    expect(message).not.toContain('exit code 0')
  })

  it('says how an exited container ended', async () => {
    expect(await failure({ status: 'exited', exitCode: 3, restarts: 0 })).toContain('(caddy:broken) exited with code 3 before')
  })
})
