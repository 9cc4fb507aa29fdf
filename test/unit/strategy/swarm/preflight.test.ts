import { describe, expect, it } from 'vitest'

import type { EnvironmentConfig } from '../../../../src/config/types.js'
import type { Env } from '../../../../src/health/gate.js'
import { refuseLoginUnset } from '../../../../src/strategy/swarm/preflight.js'

const envWith = (vars: Record<string, string>, login?: EnvironmentConfig['registryLogin']): Env =>
  ({
    config: {} as Env['config'],
    env: { name: 'production', envFile: '/app/env/production.env', registry: '127.0.0.1:5000', ...(login ? { registryLogin: login } : {}) } as EnvironmentConfig,
    target: {} as Env['target'],
    vars,
  }) as Env

const LOGIN = { username: 'REGISTRY_USER', password: 'REGISTRY_PASSWORD' }

describe('refuseLoginUnset', () => {
  it('passes without registry_login, and when both of its variables are set', () => {
    expect(() => refuseLoginUnset(envWith({}))).not.toThrow()
    expect(() => refuseLoginUnset(envWith({ REGISTRY_USER: 'deployer', REGISTRY_PASSWORD: 'pw' }, LOGIN))).not.toThrow()
  })

  it('refuses (exit 2) naming the unset or empty variables and the env file, never a value', () => {
    let error: unknown
    try {
      refuseLoginUnset(envWith({ REGISTRY_USER: 'deployer', REGISTRY_PASSWORD: '' }, LOGIN))
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'REGISTRY_LOGIN_UNSET' })
    expect((error as Error).message).toBe('registry_login of production names REGISTRY_PASSWORD, which is not set in /app/env/production.env')
    expect(() => refuseLoginUnset(envWith({}, LOGIN))).toThrow(/names REGISTRY_USER and REGISTRY_PASSWORD, which are not set/)
  })
})
