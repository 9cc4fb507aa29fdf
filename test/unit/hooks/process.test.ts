import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { runHookProcess } from '../../../src/hooks/process.js'
import { processRuns } from '../support/processes.js'

/** A real shell: the kill logic is only proven on real process groups. */
function run(command: string, timeoutMs = 5_000, env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' }) {
  const lines: string[] = []
  const cwd = mkdtempSync(join(tmpdir(), 'berth-hook-'))
  return { cwd, lines, exit: runHookProcess({ command, cwd, env, timeoutMs, onLine: (line) => lines.push(line) }) }
}

describe('runHookProcess', () => {
  it('runs sh -c in its directory with exactly the given environment, streaming both outputs line by line', async () => {
    const { cwd, lines, exit } = run('echo "out $FOO $(pwd)"; echo err >&2; env > env.txt; exit 3', 5_000, { PATH: process.env.PATH ?? '', FOO: 'bar' })
    const result = await exit
    expect(result).toMatchObject({ exitCode: 3, timedOut: false })
    expect(lines.sort()).toEqual(['err', `out bar ${cwd}`])
    // PATH, FOO and what sh sets itself (PWD, SHLVL, _): nothing of this process's environment.
    const names = readFileSync(join(cwd, 'env.txt'), 'utf8').split('\n').filter(Boolean).map((line) => line.split('=')[0])
    expect(names.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name ?? '')).sort()).toEqual(['FOO', 'PATH'])
  })

  it('kills a hook that hangs at its timeout, with its whole process group (a background grandchild too)', async () => {
    const { cwd, exit } = run('sleep 100 & echo $! > grandchild.pid; wait', 600)
    const started = performance.now()
    const result = await exit
    expect(result.timedOut).toBe(true)
    expect(result.exitCode).toBeUndefined()
    expect(performance.now() - started).toBeLessThan(3_000)
    const grandchild = Number(readFileSync(join(cwd, 'grandchild.pid'), 'utf8'))
    expect(grandchild).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(processRuns(grandchild)).toBe(false)
  })

  it('kills one that ignores SIGTERM a grace period later', async () => {
    const { exit } = run("trap '' TERM; sleep 100 & wait; sleep 100", 300)
    const started = performance.now()
    const result = await exit
    expect(result.timedOut).toBe(true)
    expect(performance.now() - started).toBeLessThan(4_000)
  })

  it('ends what a finished hook left running in its group, rather than waiting for it', async () => {
    const { cwd, exit } = run('sleep 100 & echo $! > left.pid; echo done', 20_000)
    const result = await exit
    expect(result).toMatchObject({ exitCode: 0, timedOut: false })
    expect(result.durationMs).toBeLessThan(3_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(processRuns(Number(readFileSync(join(cwd, 'left.pid'), 'utf8')))).toBe(false)
  })
})
