import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { cachedComposeVersion, cacheFile, composeBinaryKey, entryKey, rememberComposeVersion } from '../../../src/target/composeCache.js'

let dir: string
let env: NodeJS.ProcessEnv

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cache-'))
  await mkdir(join(dir, 'bin'))
  await mkdir(join(dir, 'docker', 'cli-plugins'), { recursive: true })
  await writeFile(join(dir, 'bin', 'docker'), '#!/bin/sh\n')
  await chmod(join(dir, 'bin', 'docker'), 0o755)
  await writeFile(join(dir, 'docker', 'cli-plugins', 'docker-compose'), 'compose v2.26.1')
  env = { PATH: join(dir, 'bin'), DOCKER_CONFIG: join(dir, 'docker'), XDG_CACHE_HOME: join(dir, 'cache'), HOME: dir }
})

afterEach(() => rm(dir, { recursive: true, force: true }))

describe('the Compose version cache', () => {
  it('keeps a version under the engine and the binaries, and loses it when Compose changes', async () => {
    const key = entryKey('ENGINE:1', (await composeBinaryKey(env))!)
    expect(key).toContain(join(dir, 'docker', 'cli-plugins', 'docker-compose'))
    expect(await cachedComposeVersion(key, env)).toBeUndefined()
    await rememberComposeVersion(key, '2.26.1', env)
    expect(await cachedComposeVersion(key, env)).toBe('2.26.1')
    expect(await cachedComposeVersion(entryKey('ENGINE:2', (await composeBinaryKey(env))!), env)).toBeUndefined()
    // Another Compose (new size and time): a new key, so it is asked again.
    await writeFile(join(dir, 'docker', 'cli-plugins', 'docker-compose'), 'compose v2.30.0 — a longer binary')
    await utimes(join(dir, 'docker', 'cli-plugins', 'docker-compose'), new Date(), new Date(Date.now() + 5000))
    expect(await cachedComposeVersion(entryKey('ENGINE:1', (await composeBinaryKey(env))!), env)).toBeUndefined()
  })

  it('another docker client on PATH (a wrapper) makes another key; no client or no plugin, no key', async () => {
    const before = await composeBinaryKey(env)
    await mkdir(join(dir, 'wrapper'))
    await writeFile(join(dir, 'wrapper', 'docker'), '#!/bin/sh\nexec docker "$@"\n')
    expect(await composeBinaryKey({ ...env, PATH: `${join(dir, 'wrapper')}:${env.PATH}` })).not.toBe(before)
    expect(await composeBinaryKey({ ...env, PATH: join(dir, 'nothing') })).toBeUndefined()
    await rm(join(dir, 'docker', 'cli-plugins', 'docker-compose'))
    expect(await composeBinaryKey({ ...env, HOME: dir })).not.toContain(join(dir, 'docker'))
  })

  it('a damaged or unwritable cache is not used, and nothing fails', async () => {
    await mkdir(join(dir, 'cache', 'berth'), { recursive: true })
    await writeFile(cacheFile(env), '{not json')
    expect(await cachedComposeVersion('k', env)).toBeUndefined()
    await rememberComposeVersion('k', '2.26.1', env)
    expect(await cachedComposeVersion('k', env)).toBe('2.26.1')
    // Its directory cannot be made (a file is in the way): nothing is written, nothing thrown.
    await rememberComposeVersion('k', '2.26.1', { ...env, XDG_CACHE_HOME: join(dir, 'bin', 'docker') })
    expect(await cachedComposeVersion('k', { ...env, XDG_CACHE_HOME: join(dir, 'bin', 'docker') })).toBeUndefined()
  })
})
