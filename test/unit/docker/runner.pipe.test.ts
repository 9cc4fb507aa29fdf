import { createHash } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { commandsRun, run, runPinned } from '../../../src/docker/runner.js'
import { DockerCommandError, EngineUnavailableError } from '../../../src/errors.js'
import { registerSecrets } from '../../../src/secrets.js'
import { cleanSecretsAndEnv } from '../support/processEnv.js'

/** RunOptions.pipeFrom: `docker save` on one engine into `docker load` on another (SPEC §10 promotion). */
describe('run with pipeFrom', () => {
  const node = process.execPath
  cleanSecretsAndEnv(() => vi.restoreAllMocks())

  const writer = (bytes: number) => [node, '-e', `const b = Buffer.alloc(${bytes}); for (let i = 0; i < b.length; i++) b[i] = i % 251; process.stdout.write(b)`]
  const digest = [node, '-e', 'const h = require("crypto").createHash("sha256"); let n = 0; process.stdin.on("data", (c) => { n += c.length; h.update(c) }).on("end", () => console.log(n, h.digest("hex")))']

  it("streams every byte of one side's stdout into the other's stdin and returns the reader's result", async () => {
    const bytes = 8 * 1024 * 1024 + 17
    const sent = Buffer.alloc(bytes)
    for (let i = 0; i < sent.length; i++) sent[i] = i % 251
    const expected = `${bytes} ${createHash('sha256').update(sent).digest('hex')}`
    const result = await run(digest, { pipeFrom: writer(bytes) })
    expect(result).toEqual({ stdout: expected, stderr: '', exitCode: 0 })
  })

  it('counts both commands', async () => {
    const before = commandsRun()
    await run([node, '-e', 'process.stdin.resume()'], { pipeFrom: [node, '-e', ''] })
    expect(commandsRun()).toBe(before + 2)
  })

  it('names the writing side when it fails, its stderr masked', async () => {
    registerSecrets(['s3cr3t-Value-42'])
    // Joined by the child, so the secret is in its stderr but not in argv.
    const from = [node, '-e', 'process.stderr.write("no such image, token " + ["s3cr3t", "Value", "42"].join("-")); process.exit(3)']
    const error = await run(digest, { pipeFrom: from }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DockerCommandError)
    expect(error).toMatchObject({ argv: from, commandExitCode: 3, stderr: 'no such image, token ****' })
    expect((error as Error).message).not.toContain('s3cr3t-Value-42')
  })

  it('names the reading side when only it fails', async () => {
    const to = [node, '-e', 'process.stdin.resume(); process.stdin.on("end", () => { process.stderr.write("no space left on device"); process.exit(5) })']
    const error = await run(to, { pipeFrom: writer(1024) }).catch((e: unknown) => e)
    expect(error).toMatchObject({ argv: to, commandExitCode: 5, stderr: 'no space left on device' })
  })

  it('when both fail, shows both sides and what each said', async () => {
    const from = [node, '-e', 'process.stderr.write("reference does not exist"); process.exit(1)']
    const to = [node, '-e', 'process.stdin.resume(); process.stdin.on("end", () => { process.stderr.write("unexpected EOF"); process.exit(2) })']
    const error = (await run(to, { pipeFrom: from }).catch((e: unknown) => e)) as DockerCommandError
    expect(error.argv).toEqual([...from, '|', ...to])
    expect(error.message).toContain(`${from.join(' ')} (exit 1): reference does not exist`)
    expect(error.message).toContain(`${to.join(' ')} (exit 2): unexpected EOF`)
  })

  it('ends when the reader exits early instead of waiting on a full pipe', async () => {
    const to = [node, '-e', 'process.stderr.write("cannot connect"); process.exit(1)']
    const result = await run(to, { pipeFrom: writer(64 * 1024 * 1024), allowFailure: true })
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('cannot connect')
  })

  it('reports a missing program on either side as the engine being unavailable', async () => {
    await expect(run(digest, { pipeFrom: ['berth-test-no-such-program-3c9f'] })).rejects.toBeInstanceOf(EngineUnavailableError)
    await expect(run(['berth-test-no-such-program-3c9f'], { pipeFrom: writer(10) })).rejects.toBeInstanceOf(EngineUnavailableError)
  })

  it('shows both argv in the trace', async () => {
    process.env.BERTH_TRACE = '1'
    const lines: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk))
      return true
    })
    await run([node, '-e', 'process.stdin.resume()'], { pipeFrom: [node, '-e', '"save"'] })
    expect(lines.join('')).toMatch(/\[trace\] .* -e "save" \| .* -e process\.stdin\.resume\(\)/)
  })

  describe('each side gets the environment of its own engine', () => {
    let bin: string
    beforeEach(() => {
      // A stand-in `docker` that says which DOCKER_HOST it was given: the writer on stdout, the reader after what it read.
      bin = mkdtempSync(join(tmpdir(), 'berth-pipe-'))
      writeFileSync(join(bin, 'docker'), '#!/bin/sh\nfor a; do [ "$a" = load ] && { cat; echo " load:${DOCKER_HOST:-none}"; exit 0; }; done\nprintf "save:%s" "${DOCKER_HOST:-none}"\n')
      chmodSync(join(bin, 'docker'), 0o755)
      process.env.PATH = `${bin}:${process.env.PATH}`
      process.env.DOCKER_HOST = 'unix:///shell.sock'
    })
    afterEach(() => rmSync(bin, { recursive: true, force: true }))

    it("a side that names its engine never gets the shell's DOCKER_HOST; one that does not gets it", async () => {
      const b = ['docker', '--host', 'unix:///b.sock']
      expect((await runPinned([...b, 'load'], { pipeFrom: ['docker', 'save'] })).stdout).toBe('save:unix:///shell.sock load:none')
      expect((await run(['docker', 'load'], { pipeFrom: [...b, 'save'] })).stdout).toBe('save:none load:unix:///shell.sock')
      expect((await runPinned([...b, 'load'], { pipeFrom: [...b, 'save'] })).stdout).toBe('save:none load:none')
    })
  })
})
