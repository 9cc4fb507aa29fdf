import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { ExitCode, UsageError } from '../../../src/errors.js'
import { app, type Call, collect, fakeDeps, SECRET, useApp } from '../support/operated.js'
import { compose, composeSubcommand } from '../../../src/run/compose.js'

useApp()

describe('composeSubcommand', () => {
  it.each([
    [['ps'], 'ps'],
    [['--profile', 'debug', 'up', '-d'], 'up'],
    [['--dry-run', '--ansi', 'never', 'down'], 'down'],
    [['exec', '-T', 'web', 'sh', '-c', 'ls -f'], 'exec'],
    // -f after the subcommand is the subcommand's own (logs --follow), not compose's --file.
    [['logs', '-f', 'web'], 'logs'],
  ])('finds the subcommand of %j', (args, expected) => {
    expect(composeSubcommand(args)).toBe(expected)
  })

  it.each([[['-p', 'other', 'down']], [['--project-name=other', 'ps']], [['-pother', 'ps']], [['-f', 'x.yaml', 'up']], [['--file', 'x.yaml', 'up']], [['--env-file', '.env', 'config']], [['--project-directory', '/', 'ps']]])(
    'refuses %j, which would point compose elsewhere',
    (args) => {
      const error = (() => {
        try {
          composeSubcommand(args)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).code).toBe('COMPOSE_RETARGET')
      expect((error as UsageError).exitCode).toBe(ExitCode.usage)
    },
  )

  it('refuses no command at all', () => {
    expect(() => composeSubcommand([])).toThrow(/no compose command/)
    expect(() => composeSubcommand(['--dry-run'])).toThrow(/no compose command/)
  })
})

describe('compose', () => {
  it("runs the arguments on the environment's project, files and env file, masked, returning compose's exit code", async () => {
    const { deps, calls } = fakeDeps({ lines: [`SECRET_TOKEN: ${SECRET}`], exitCode: 7 })
    const sink = collect()
    const result = await compose({ config: app.config, envName: 'staging', args: ['config'], terminal: true }, deps, sink)
    expect(result).toEqual({ environment: 'staging', project: 'shop-staging', subcommand: 'config', exitCode: 7 })
    expect(sink.out).toEqual(['SECRET_TOKEN: ****'])
    const call = calls.at(-1) as Call
    expect(call.argv).toEqual(['docker', 'compose', '--project-name', 'shop-staging', '--project-directory', app.dir, '--file', join(app.dir, 'compose.yaml'), '--env-file', join(app.dir, 'environments', 'staging.env'), 'config'])
    expect(call.options).toMatchObject({ allowFailure: true, stdinInherit: true })
    expect(call.options.inherit).toBeUndefined()
  })

  it('gives an interactive exec the terminal, but masks it without one', async () => {
    const tty = fakeDeps()
    await compose({ config: app.config, envName: 'staging', args: ['exec', 'web', 'sh'], terminal: true }, tty.deps, collect())
    expect(tty.calls.at(-1)?.options).toEqual({ inherit: true, allowFailure: true })

    const piped = fakeDeps()
    await compose({ config: app.config, envName: 'staging', args: ['exec', '-T', 'web', 'env'], terminal: false }, piped.deps, collect())
    expect(piped.calls.at(-1)?.options.onLine).toBeTypeOf('function')
  })

  it('warns that up and down bypass the release records', async () => {
    const { deps, warnings } = fakeDeps()
    await compose({ config: app.config, envName: 'staging', args: ['up', '-d'], terminal: false }, deps, collect())
    expect(warnings.join()).toMatch(/compose up is not recorded/)
  })

  it('refuses before touching the engine when the arguments retarget compose', async () => {
    const { deps, calls } = fakeDeps()
    await expect(compose({ config: app.config, envName: 'staging', args: ['-p', 'shop-production', 'down'], terminal: false }, deps, collect())).rejects.toBeInstanceOf(UsageError)
    expect(calls).toEqual([])
  })
})
