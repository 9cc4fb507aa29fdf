import { describe, expect, it } from 'vitest'

import type { Hook } from '../../../src/config/types.js'
import { engineHost, type HookFacts, hookEnvironment, unsetPassed } from '../../../src/hooks/environment.js'

const hook = (pass: string[] = []): Hook => ({ name: 'pre_deploy', run: 'true', timeoutMs: 1000, pass })
const facts: HookFacts = { app: 'shop', env: 'staging', action: 'deploy', release: '20261203-120000', previous: '20261202-110000', result: 'pending', host: 'box' }
const shell = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  USER: 'op',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  SSH_AUTH_SOCK: '/tmp/agent.sock',
  AWS_SECRET_ACCESS_KEY: 'shell-secret',
  GITHUB_TOKEN: 'ghp_shell',
  DOCKER_HOST: 'tcp://elsewhere:2375',
  BERTH_ENV: 'production',
}
const envFile = { DATABASE_URL: 'postgres://db', SECRET_TOKEN: 'file-secret', SLACK_URL: 'https://hooks.example/x' }

describe('hookEnvironment (SPEC §11)', () => {
  it('gives the BERTH_* facts and what finds programs, home and locale, nothing else of the shell nor of the env file', () => {
    expect(hookEnvironment(hook(), facts, shell, envFile)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/op',
      USER: 'op',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
      BERTH_HOOK: 'pre_deploy',
      BERTH_ACTION: 'deploy',
      BERTH_APP: 'shop',
      BERTH_ENV: 'staging',
      BERTH_RELEASE: '20261203-120000',
      BERTH_PREVIOUS: '20261202-110000',
      BERTH_RESULT: 'pending',
      BERTH_HOST: 'box',
    })
  })

  it('adds the env-file variables listed under pass:, and BERTH_* cannot be overridden by them', () => {
    const env = hookEnvironment(hook(['SLACK_URL', 'SECRET_TOKEN', 'MISSING']), { ...facts, result: 'rolled-back', reason: 'web unhealthy' }, shell, { ...envFile, BERTH_ENV: 'x' })
    expect(env).toMatchObject({ SLACK_URL: 'https://hooks.example/x', SECRET_TOKEN: 'file-secret', BERTH_RESULT: 'rolled-back', BERTH_REASON: 'web unhealthy', BERTH_ENV: 'staging' })
    expect(env).not.toHaveProperty('DATABASE_URL')
    expect(env).not.toHaveProperty('MISSING')
    expect(hookEnvironment(hook(['BERTH_ENV']), facts, shell, { BERTH_ENV: 'x' }).BERTH_ENV).toBe('staging')
  })

  it('names the passed variables the env file lacks', () => {
    expect(unsetPassed(hook(['SLACK_URL', 'MISSING']), envFile)).toEqual(['MISSING'])
  })

  it('BERTH_HOST is the engine host: the SSH host, the context, or this machine', () => {
    expect(engineHost({ kind: 'ssh', url: 'ssh://deploy@10.0.0.5', host: '10.0.0.5', connectTimeoutMs: 1 }, 'box')).toBe('10.0.0.5')
    expect(engineHost({ kind: 'context', name: 'prod-eu', connectTimeoutMs: 1 }, 'box')).toBe('prod-eu')
    expect(engineHost({ kind: 'shell' }, 'box')).toBe('box')
  })
})
