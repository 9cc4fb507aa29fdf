import { describe, expect, it } from 'vitest'

import type { SshLocation } from '../../../../src/config/types.js'
import { composeConfig, composeLogs, composeUp } from '../../../../src/docker/compose.js'
import { hostKey, needsEngine } from '../../../../src/target/ssh/target.js'

describe('needsEngine', () => {
  it('lets git and compose config run before the connection is made, and nothing else', () => {
    const project = { engine: { host: 'unix:///tmp/d.sock' }, project: 'shop-production', files: ['/srv/compose.yaml'], envFile: '/srv/production.env', projectDirectory: '/srv' }
    expect(needsEngine(['git', 'describe', '--always', '--dirty'])).toBe(false)
    expect(needsEngine(composeConfig(project, 'json'))).toBe(false)
    expect(needsEngine(composeUp(project))).toBe(true)
    // A service called config is not compose's config.
    expect(needsEngine(composeLogs(project, { services: ['config'], tail: 10 }))).toBe(true)
    expect(needsEngine(['docker', '--host', 'unix:///tmp/d.sock', 'ps'])).toBe(true)
  })
})

describe('hostKey', () => {
  it('names the local directory of a host by user, host and port, with nothing a path could trip on', () => {
    const at = (over: Partial<SshLocation>): SshLocation => ({ kind: 'ssh', url: '', host: '10.0.0.5', connectTimeoutMs: 1, ...over })
    expect(hostKey(at({ user: 'deploy', port: 2222 }))).toBe('deploy@10.0.0.5_2222')
    expect(hostKey(at({ host: 'fd00::5' }))).toBe('fd00__5')
  })
})
