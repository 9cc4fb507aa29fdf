import { Config } from '@oclif/core/config'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

import { runFast, userAgent } from '../../../src/cli/fast.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

describe('userAgent', () => {
  it("is oclif's own Config.userAgent, which `berth --version` printed before the fast start", async () => {
    const config = await Config.load(repo)
    expect(await userAgent({ name: config.name, version: config.version })).toBe(config.userAgent)
  })
})

describe('runFast', () => {
  const never = () => Promise.reject(new Error('not to be loaded'))
  it('leaves help, plugin commands and unknown commands to the whole CLI, loading no command', async () => {
    const commands = { deploy: never, status: never }
    for (const argv of [[], ['help'], ['--help'], ['deploy', '--help'], ['status', '-h'], ['autocomplete', 'bash'], ['statu'], ['--version', 'x'], ['constructor']]) {
      expect(await runFast(repo, { name: 'berth', version: '0.1.0' } as never, commands as never, argv)).toBe(false)
    }
  })
})
