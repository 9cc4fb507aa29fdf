import { PassThrough, Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { clearSecrets, registerSecrets } from '../../../src/secrets.js'
import { createReporter, timestamp } from '../../../src/ui/reporter.js'

/** A writable that keeps everything written to it. */
function sink(): Writable & { text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  })
  return Object.assign(stream, { text: () => chunks.join('') })
}

const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z /

afterEach(() => clearSecrets())

describe('timestamp', () => {
  it('is ISO UTC with seconds precision', () => {
    expect(timestamp(new Date('2026-11-22T09:30:00.123Z'))).toBe('2026-11-22T09:30:00Z')
  })
})

describe('plain reporter', () => {
  it('writes timestamped start, update and ok lines', async () => {
    const out = sink()
    const value = await createReporter('plain', out).step('build', async (update) => {
      update('building web')
      return 42
    })
    expect(value).toBe(42)
    const lines = out.text().trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line).toMatch(STAMP)
    expect(lines.map((line) => line.replace(STAMP, ''))).toEqual([
      '[start] build',
      '        build: building web',
      expect.stringMatching(/^\[ok\] build \(\d+\.\ds\)$/),
    ])
  })

  it('with BERTH_TRACE, marks when each step starts and ends in ms since berth started; without, not', async () => {
    const traced = sink()
    process.env.BERTH_TRACE = '1'
    try {
      await createReporter('plain', traced).step('apply 20261122-093000', async () => undefined)
    } finally {
      delete process.env.BERTH_TRACE
    }
    const phases = traced.text().split('\n').filter((line) => line.startsWith('[phase] '))
    expect(phases).toEqual([expect.stringMatching(/^\[phase\] start apply 20261122-093000 \(\+\d+ ms\)$/), expect.stringMatching(/^\[phase\] end apply 20261122-093000 \(\+\d+ ms\)$/)])
    const plain = sink()
    await createReporter('plain', plain).step('apply', async () => undefined)
    expect(plain.text()).not.toContain('[phase]')
  })

  it('writes warn, info and indented block lines, each timestamped', () => {
    const out = sink()
    const reporter = createReporter('plain', out)
    reporter.info('using release 20261122-0930')
    reporter.warn('web has no restart policy')
    reporter.block('last logs of web', ['line one', 'line two'])
    expect(
      out
        .text()
        .trimEnd()
        .split('\n')
        .map((line) => line.replace(STAMP, '')),
    ).toEqual(['using release 20261122-0930', '[warn] web has no restart policy', 'last logs of web', '    line one', '    line two'])
  })

  it('rethrows the same error after a failed line', async () => {
    const out = sink()
    const error = new Error('compose up failed')
    await expect(
      createReporter('plain', out).step('apply', async () => {
        throw error
      }),
    ).rejects.toBe(error)
    expect(out.text()).toMatch(/\[failed\] apply \(\d+\.\ds\): compose up failed\n$/)
  })

  it('never prints a registered secret, in any kind of line', async () => {
    registerSecrets(['hunter2-s3cret'])
    const out = sink()
    const reporter = createReporter('plain', out)
    reporter.info('password is hunter2-s3cret')
    reporter.warn('hunter2-s3cret')
    reporter.block('env hunter2-s3cret', ['DB_PASSWORD=hunter2-s3cret'])
    await expect(
      reporter.step('connect hunter2-s3cret', async (update) => {
        update('trying hunter2-s3cret')
        throw new Error('denied for hunter2-s3cret')
      }),
    ).rejects.toThrow()
    expect(out.text()).not.toContain('hunter2-s3cret')
    expect(out.text()).toContain('****')
  })

  it('writes no escape codes, even when relaying text that has them', async () => {
    const out = sink()
    const reporter = createReporter('plain', out)
    reporter.info('\x1b[31mred\x1b[0m from docker')
    reporter.block('logs', ['\x1b]0;title\x07\x1b[1mbold\x1b[22m'])
    await reporter.step('build', async (update) => update('\x1b[2Kprogress'))
    expect(out.text()).not.toContain('\x1b')
    expect(out.text()).toContain('red from docker')
  })
})

describe('listr reporter', () => {
  it('returns the value of the step body', async () => {
    const out = new PassThrough()
    out.resume()
    const value = await createReporter('listr', out).step('build', async (update) => {
      update('building web')
      return { tag: 'v1' }
    })
    expect(value).toEqual({ tag: 'v1' })
  })

  it('rethrows the body error unchanged', async () => {
    const out = new PassThrough()
    out.resume()
    const error = new Error('unhealthy')
    await expect(
      createReporter('listr', out).step('wait healthy', async () => {
        throw error
      }),
    ).rejects.toBe(error)
  })
})
