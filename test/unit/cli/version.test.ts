import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

import { versionLine } from '../../../src/cli/version.js'
// @ts-expect-error: a build script, plain JavaScript
import { buildCommit } from '../../../scripts/buildInfo.mjs'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()

describe('versionLine', () => {
  it("appends the commit to oclif's line, after the three words oclif's versionDetails reads", () => {
    expect(versionLine('berth/0.1.0 linux-x64 node-v20.20.2', 'ea17ed3')).toBe('berth/0.1.0 linux-x64 node-v20.20.2 (commit ea17ed3)')
  })

  it('says so when the build came from no git checkout', () => {
    expect(versionLine('berth/0.1.0 linux-x64 node-v20.20.2', undefined)).toBe('berth/0.1.0 linux-x64 node-v20.20.2 (not built from a git checkout)')
  })
})

describe('buildCommit (scripts/buildInfo.mjs)', () => {
  const work = mkdtempSync(join(tmpdir(), 'berth-buildinfo-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it("is the checkout's short HEAD, -dirty when tracked files changed", () => {
    const head = git(repo, 'rev-parse', '--short', 'HEAD')
    expect([head, `${head}-dirty`]).toContain(buildCommit(repo))
  })

  it('is empty outside a checkout, and for a directory inside a checkout that is not its top (a copy inside another repository)', () => {
    const outside = join(work, 'unpacked')
    mkdirSync(outside)
    expect(buildCommit(outside)).toBe('')

    const project = join(work, 'project')
    mkdirSync(join(project, 'node_modules', 'berth'), { recursive: true })
    git(project, 'init', '-q')
    git(project, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x')
    expect(buildCommit(join(project, 'node_modules', 'berth'))).toBe('')
    expect(buildCommit(project)).toMatch(/^[0-9a-f]{7,}$/)
  })
})
