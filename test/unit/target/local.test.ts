import { tmpdir } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'

import { localTarget } from '../../../src/target/local.js'
import { NO_STATE } from '../support/deps.js'

describe('localTarget host', () => {
  const before = process.env.DOCKER_HOST
  afterEach(() => {
    if (before === undefined) delete process.env.DOCKER_HOST
    else process.env.DOCKER_HOST = before
  })

  it("measures free space on this machine while the shell's engine is local", async () => {
    delete process.env.DOCKER_HOST
    expect(await localTarget({ stateDir: NO_STATE }).host.freeBytes(tmpdir())).toBeGreaterThan(0)
    process.env.DOCKER_HOST = 'unix:///run/user/1000/docker.sock'
    expect(await localTarget({ stateDir: NO_STATE }).host.freeBytes(tmpdir())).toBeGreaterThan(0)
  })

  it("cannot see the engine's disk when the shell's DOCKER_HOST names another machine", async () => {
    process.env.DOCKER_HOST = 'ssh://deploy@web1'
    expect(await localTarget({ stateDir: NO_STATE }).host.freeBytes(tmpdir())).toBeUndefined()
  })
})
