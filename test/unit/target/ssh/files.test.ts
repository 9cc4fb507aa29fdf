import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Files } from '../../../../src/target/files.js'
import { HostFileError, parseStat, sshFiles } from '../../../../src/target/ssh/files.js'
import { RemoteShell } from '../../../../src/target/ssh/shell.js'

/** The host's files through a real sh of this machine: the same scripts the SSH connection sends. */
let sh: ChildProcessWithoutNullStreams
let dir: string
let files: Files

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-sshfiles-'))
  sh = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] })
  const remote = new RemoteShell(sh.stdin, sh.stdout)
  files = sshFiles(async () => remote, 'ssh://root@host')
})

afterEach(async () => {
  sh.kill()
  await rm(dir, { recursive: true, force: true })
})

describe('sshFiles', () => {
  it('writes atomically into a private directory, 0600, and reads back exactly, secrets and odd bytes included', async () => {
    const path = join(dir, 'state', 'production', 'releases.json')
    const data = `{"SECRET":"p'a\\"ss $HOME \`id\`"}\n\u00e9\u4e2d\n\n`
    await files.writeAtomic(path, data)
    expect(await readFile(path, 'utf8')).toBe(data)
    expect(await files.read(path)).toBe(data)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'state', 'production'))).mode & 0o777).toBe(0o700)
    expect(await files.read(join(dir, 'missing'))).toBeUndefined()
    expect(await files.lastByte(path)).toBe(10)
    expect(await files.lastByte(join(dir, 'missing'))).toBeUndefined()
  })

  it('appends, creates exclusively (the whole file or none), lists, renames and removes', async () => {
    const log = join(dir, 'env', 'audit.log')
    await files.append(log, 'one\n')
    await files.append(log, 'two\n')
    expect(await readFile(log, 'utf8')).toBe('one\ntwo\n')

    const lock = join(dir, 'env', 'lock')
    expect(await files.createExclusive(lock, '{"pid":1}\n')).toBe(true)
    expect(await files.createExclusive(lock, '{"pid":2}\n')).toBe(false)
    expect(await readFile(lock, 'utf8')).toBe('{"pid":1}\n')
    expect((await stat(lock)).mode & 0o777).toBe(0o600)

    await files.mkdir(join(dir, 'env', 'releases'), 0o755)
    expect((await files.list(join(dir, 'env'))).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'audit.log', isDirectory: false },
      { name: 'lock', isDirectory: false },
      { name: 'releases', isDirectory: true },
    ])
    expect(await files.list(join(dir, 'nothing'))).toEqual([])

    await files.rename(lock, `${lock}.old`)
    expect(await files.read(lock)).toBeUndefined()
    expect(await files.removeEmptyDir(join(dir, 'env'))).toBe(false)
    expect(await files.removeEmptyDir(join(dir, 'env', 'releases'))).toBe(true)
    await files.remove(join(dir, 'env'))
    expect(await files.list(dir)).toEqual([])
  })

  it("gives parents the mode asked for, stats, and tells a file's age by the host's clock; touch renews it", async () => {
    await files.mkdir(join(dir, 'live', 'shop', 'production'), 0o755)
    expect((await stat(join(dir, 'live', 'shop'))).mode & 0o777).toBe(0o755)
    const path = join(dir, 'lock')
    await writeFile(path, 'x')
    const old = new Date(Date.now() - 90_000)
    await utimes(path, old, old)
    expect(await files.stat(path)).toMatchObject({ size: 1, isFile: true, isDirectory: false, uid: process.getuid?.() })
    expect(await files.ageMs(path)).toBeGreaterThanOrEqual(89_000)
    await files.touch(path)
    expect(await files.ageMs(path)).toBeLessThan(3000)
    expect(await files.ageMs(join(dir, 'missing'))).toBeUndefined()
    expect(await files.stat(join(dir, 'missing'))).toBeUndefined()
  })

  it("names the host and what sh said when the host refuses, with the code an unwritable state directory maps to", async () => {
    await writeFile(join(dir, 'file'), 'x')
    const error = await files.writeAtomic(join(dir, 'file', 'below'), 'x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HostFileError)
    expect((error as HostFileError).message).toMatch(/^on ssh:\/\/root@host: mkdir: cannot create directory .*: File exists$/)
    expect(error).toMatchObject({ code: 'UNEXPECTED' })

    // A login that may not write the state directory (tests run as root, so this is what sh would say).
    const denied = new HostFileError('ssh://deploy@10.0.0.5', "mkdir: cannot create directory '/var/lib/berth/shop': Permission denied\n")
    expect(denied).toMatchObject({ code: 'HOST_STATE_UNWRITABLE', exitCode: 2, message: "on ssh://deploy@10.0.0.5: mkdir: cannot create directory '/var/lib/berth/shop': Permission denied" })
    expect(denied.hint).toContain('sudo install -d -m 700 -o USER /var/lib/berth/<app>')
  })
})

describe('parseStat', () => {
  it('reads stat -c "%s %Y %f %u"', () => {
    expect(parseStat('42 1764662400 81a4 0')).toEqual({ size: 42, mtimeMs: 1_764_662_400_000, mode: 0o100644, uid: 0, isDirectory: false, isFile: true })
    expect(parseStat('4096 1764662400 41c0 1000')).toMatchObject({ mode: 0o40700, isDirectory: true, isFile: false })
  })
})
