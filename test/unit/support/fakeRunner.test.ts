import { describe, expect, it } from 'vitest'

import { DockerCommandError } from '../../../src/errors.js'
import { compact, expectSequence, fakeRunner } from './fakeRunner.js'

const up = ['docker', 'compose', '--project-name', 'shop-staging', '--project-directory', '/app', '--file', '/app/compose.yaml', '--env-file', '/app/staging.env', 'up', '--detach']

describe('fakeRunner', () => {
  it('shows compose commands by project, without the files that select it', () => {
    expect(compact(up)).toBe('docker compose -p shop-staging up --detach')
    expect(compact(['docker', 'image', 'ls', '--format', '{{json .}}'])).toBe('docker image ls --format {{json .}}')
  })

  it('answers the next scripted command first, then a catch-all, in order of the calls', async () => {
    const runner = fakeRunner().always('docker ps', { stdout: 'any' }).expect('docker ps', { stdout: 'first' }).expect('docker compose -p shop-staging up')
    expect((await runner.run(['docker', 'ps'])).stdout).toBe('first')
    expect((await runner.run(['docker', 'ps'])).stdout).toBe('any')
    await runner.run(up)
    expectSequence(runner, ['docker ps', 'docker ps', 'docker compose -p shop-staging up'])
  })

  it('fails a non-zero exit as the real runner does, unless the caller allows it, and streams lines to onLine', async () => {
    const runner = fakeRunner().expect('docker compose', { exitCode: 1, stderr: 'boom' }).expect('docker compose', { exitCode: 1 }).expect('docker logs', { lines: ['a', 'b'] })
    await expect(runner.run(up)).rejects.toBeInstanceOf(DockerCommandError)
    expect(await runner.run(up, { allowFailure: true })).toEqual({ stdout: '', stderr: '', exitCode: 1 })
    const seen: string[] = []
    expect((await runner.run(['docker', 'logs'], { onLine: (l) => seen.push(l) })).stdout).toBe('')
    expect(seen).toEqual(['a', 'b'])
  })

  it('throws on an unscripted command, naming it and what was expected, and a sequence shows it even when the flow swallowed it', async () => {
    const scripted = fakeRunner().expect('docker compose -p shop-staging stop')
    await expect(scripted.run(up)).rejects.toThrow('unscripted command: docker compose -p shop-staging up --detach\n  expected: docker compose -p shop-staging stop')
    const runner = fakeRunner()
    await runner.run(up).catch(() => undefined)
    expect(() => expectSequence(runner, ['docker compose -p shop-staging up'])).toThrow()
    expectSequence(runner, ['UNSCRIPTED docker compose -p shop-staging up --detach'])
  })

  it('fails a sequence when a scripted command never ran', () => {
    const runner = fakeRunner().expect('docker compose -p shop-staging stop')
    expect(() => expectSequence(runner, [])).toThrow(/scripted commands that never ran/)
  })
})
