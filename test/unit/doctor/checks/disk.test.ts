import { describe, expect, it } from 'vitest'

import { diskCheck, diskCheckOf, MIN_FREE_BYTES } from '../../../../src/doctor/checks/disk.js'
import type { RunResult } from '../../../../src/docker/runner.js'
import type { HostFiles } from '../../../../src/target/target.js'
import { localTarget } from '../../../../src/target/local.js'
import { NO_STATE, testDeps } from '../../support/deps.js'

describe('diskCheckOf', () => {
  it('warns under 2 GiB free', () => {
    expect(diskCheckOf('/var/lib/docker', MIN_FREE_BYTES).status).toBe('ok')
    expect(diskCheckOf('/var/lib/docker', MIN_FREE_BYTES - 1)).toMatchObject({ status: 'warn', summary: '2.0 GiB free in /var/lib/docker: a build or pull may fill it' })
  })
})

describe('diskCheck', () => {
  /** An engine whose `docker info` answers `info`, on a host whose free space is `freeBytes`. */
  const on = (info: Partial<RunResult>, freeBytes: HostFiles['freeBytes']) => {
    const run = async (): Promise<RunResult> => ({ stdout: '', stderr: '', exitCode: 0, ...info })
    const local = localTarget({ run, stateDir: NO_STATE })
    return testDeps({ run, target: { ...local, host: { ...local.host, freeBytes } } })
  }
  const rootDir = { stdout: '/var/lib/docker\n' }

  it("measures the engine's root directory on the target's host", async () => {
    const asked: string[] = []
    const check = await diskCheck(on(rootDir, async (dir) => {
      asked.push(dir)
      return 10 * 1024 ** 3
    }))
    expect(check).toEqual({ id: 'disk', status: 'ok', summary: '10.0 GiB free in /var/lib/docker', details: [] })
    expect(asked).toEqual(['/var/lib/docker'])
  })

  it('is not checked when docker info names no root directory, or the directory cannot be measured', async () => {
    expect((await diskCheck(on({ exitCode: 1 }, async () => 0))).summary).toBe('not checked: docker info did not name the engine root directory')
    expect(await diskCheck(on(rootDir, async () => Promise.reject(new Error('ENOENT: no such file or directory'))))).toMatchObject({ status: 'warn', summary: 'not checked: /var/lib/docker: ENOENT: no such file or directory' })
  })

  it("is not checked when the host's disk cannot be seen from here: the shell's DOCKER_HOST names another machine", async () => {
    const before = process.env.DOCKER_HOST
    process.env.DOCKER_HOST = 'tcp://10.0.0.5:2376'
    try {
      expect(await diskCheck(on(rootDir, async () => undefined))).toEqual({ id: 'disk', status: 'warn', summary: 'not checked: the engine is remote (DOCKER_HOST=tcp://10.0.0.5:2376)', details: [] })
    } finally {
      if (before === undefined) delete process.env.DOCKER_HOST
      else process.env.DOCKER_HOST = before
    }
  })
})
