import { describe, expect, it } from 'vitest'

import { cgroupDirs, containerMemory, formatBytes, memoryInUse } from '../../../src/inspect/memory.js'

describe('container memory from its cgroup', () => {
  it('takes usage less the inactive file cache, as docker stats does (v1 total_inactive_file, v2 inactive_file)', () => {
    expect(memoryInUse('10485760\n', 'cache 0\ntotal_inactive_file 1048576\n')).toBe(9437184)
    expect(memoryInUse('2097152', 'anon 1000\ninactive_file 524288\n')).toBe(1572864)
    expect(memoryInUse('4096', '')).toBe(4096)
    expect(memoryInUse('max', '')).toBeUndefined()
  })

  it('reads the first cgroup layout that exists, and nothing when none does', async () => {
    const id = 'abc123'
    const files: Record<string, string> = {
      [`/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`]: '3145728\n',
      [`/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.stat`]: 'inactive_file 1048576\n',
    }
    const read = async (path: string) => files[path]
    expect(await containerMemory({ read }, id)).toBe(2097152)
    expect(await containerMemory({ read }, 'other')).toBeUndefined()
    expect(await containerMemory({ read: async () => Promise.reject(new Error('EACCES')) }, id)).toBeUndefined()
    expect(cgroupDirs(id)[0]).toBe(`/sys/fs/cgroup/memory/docker/${id}`)
  })

  it('formats bytes for status', () => {
    expect(formatBytes(512 * 1024)).toBe('512 KiB')
    expect(formatBytes(12.34 * 1024 * 1024)).toBe('12.3 MiB')
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.00 GiB')
  })
})
