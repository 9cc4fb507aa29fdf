import { describe, expect, it } from 'vitest'
import { run } from '../../../src/docker/runner.js'
import { DockerCommandError } from '../../../src/errors.js'

/** RunOptions.onLine: what logs -f and compose passthrough use to mask output as it arrives. */
describe('run with onLine', () => {
  const node = process.execPath
  const script = 'process.stdout.write("one\\ntwo\\n"); process.stderr.write("warn\\n"); setTimeout(() => { process.stdout.write("last, no newline"); process.exit(3) }, 50)'

  it('hands over stdout and stderr line by line, buffering nothing', async () => {
    const lines: string[] = []
    const result = await run([node, '-e', script], { onLine: (line, stream) => lines.push(`${stream}: ${line}`), allowFailure: true })
    expect(result).toEqual({ stdout: '', stderr: '', exitCode: 3 })
    expect(lines.filter((l) => l.startsWith('stdout'))).toEqual(['stdout: one', 'stdout: two', 'stdout: last, no newline'])
    expect(lines.filter((l) => l.startsWith('stderr'))).toEqual(['stderr: warn'])
  })

  it('delivers a line before the command ends', async () => {
    let firstAt = 0
    const started = Date.now()
    await run([node, '-e', 'console.log("early"); setTimeout(() => {}, 300)'], { onLine: () => (firstAt ||= Date.now() - started) })
    const total = Date.now() - started
    expect(firstAt).toBeGreaterThan(0)
    expect(total - firstAt).toBeGreaterThan(150)
  })

  it('still throws DockerCommandError on failure without allowFailure', async () => {
    await expect(run([node, '-e', 'process.exit(4)'], { onLine: () => {} })).rejects.toBeInstanceOf(DockerCommandError)
  })
})
