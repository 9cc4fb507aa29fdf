import { describe, expect, it } from 'vitest'

import { engineChecks, hostUnreachable, readEngine, unreachableCheck } from '../../../../src/doctor/checks/engine.js'
import { BerthError, EngineUnavailableError } from '../../../../src/errors.js'
import { testDeps } from '../../support/deps.js'

describe('engineChecks', () => {
  it('passes both when the engine answers and Compose v2 is recent', () => {
    expect(engineChecks({ server: '20.10.24', compose: '2.26.1' }).map((c) => [c.id, c.status, c.summary])).toEqual([
      ['engine', 'ok', 'Docker Engine 20.10.24 answers'],
      ['compose', 'ok', 'Docker Compose 2.26.1'],
    ])
  })

  it('fails compose only when Compose is v1 or missing, with the hint of every command', () => {
    const [engine, compose] = engineChecks(new EngineUnavailableError('Docker Compose v2 (`docker compose`) is not installed', 'Install the Compose v2 CLI plugin.', 'COMPOSE_MISSING'))
    expect(engine?.status).toBe('ok')
    expect(compose).toMatchObject({ status: 'fail', hint: 'Install the Compose v2 CLI plugin.' })
  })

  it('fails the engine and leaves compose unchecked when the engine does not answer', () => {
    expect(engineChecks(new EngineUnavailableError('the Docker engine does not answer', 'Start dockerd')).map((c) => c.status)).toEqual(['fail', 'warn'])
  })
})

describe('readEngine', () => {
  it('gives the versions, or the error of an engine that does not answer, for the checks to report', async () => {
    const answers = testDeps({
      run: async (argv) => ({ stdout: argv[1] === 'version' ? '{"Server":{"Version":"27.3.1"}}' : '{"version":"v2.29.7"}', stderr: '', exitCode: 0 }),
    })
    expect(await readEngine(answers)).toEqual({ server: '27.3.1', compose: '2.29.7' })
    const down = await readEngine(testDeps({ run: async () => ({ stdout: '', stderr: 'Cannot connect to the Docker daemon', exitCode: 1 }) }))
    expect(down).toBeInstanceOf(BerthError)
    expect(engineChecks(down as BerthError)[0]).toMatchObject({ id: 'engine', status: 'fail', summary: 'the Docker engine does not answer: Cannot connect to the Docker daemon' })
  })

  it('throws what is not the engine being unavailable', async () => {
    await expect(readEngine(testDeps({ run: async () => Promise.reject(new Error('spawn docker ENOENT')) }))).rejects.toThrow('spawn docker ENOENT')
  })
})

describe('hostUnreachable and unreachableCheck', () => {
  it("tell a host that cannot be reached (one finding) from an engine there that does not answer (its checks, not checked)", () => {
    for (const code of ['HOST_UNREACHABLE', 'HOST_LOGIN_REFUSED', 'HOST_KEY_UNKNOWN', 'HOST_FORWARDING_REFUSED', 'CONNECTION_LOST'] as const) {
      expect(hostUnreachable(new EngineUnavailableError('x', undefined, code)), code).toBe(true)
    }
    expect(hostUnreachable(new EngineUnavailableError('the Docker engine does not answer'))).toBe(false)
    expect(hostUnreachable(new EngineUnavailableError('no compose', undefined, 'COMPOSE_MISSING'))).toBe(false)
  })

  it('names the reason, the environments left unchecked and what to do', () => {
    const error = new EngineUnavailableError('cannot reach ssh://deploy@10.0.0.5: the connection timed out after 10s', undefined, 'HOST_UNREACHABLE')
    expect(unreachableCheck(error, ['staging', 'production'])).toEqual({
      id: 'engine',
      status: 'fail',
      summary: 'cannot reach ssh://deploy@10.0.0.5: the connection timed out after 10s',
      details: ['staging, production run there: not checked'],
      hint: error.hint,
    })
    expect(error.hint).toMatch(/ssh USER@HOST true/)
  })
})
