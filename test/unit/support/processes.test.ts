import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'

import { processRuns } from './processes.js'

describe('processRuns', () => {
  it('is true for a running process and false once it ended and for a pid that is not there', async () => {
    const child = spawn('sleep', ['30'])
    const pid = child.pid as number
    expect(processRuns(process.pid)).toBe(true)
    expect(processRuns(pid)).toBe(true)
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    await exited
    expect(processRuns(pid)).toBe(false)
    expect(processRuns(2 ** 22 + 1)).toBe(false)
  })
})
