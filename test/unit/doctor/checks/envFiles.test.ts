import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { envFileCheck, envFileWarning, readEnvFileMode } from '../../../../src/doctor/checks/envFiles.js'
import { environmentConfig } from '../../fixtures.js'

describe('envFileCheck', () => {
  it('fails on a file readable by group or others, with the chmod to run', () => {
    const check = envFileCheck([
      { env: 'staging', path: '/srv/shop/environments/staging.env', mode: 0o644 },
      { env: 'production', path: '/srv/shop/environments/production.env', mode: 0o640 },
      { env: 'preview', path: '/srv/shop/environments/preview.env', mode: 0o600 },
    ])
    expect(check.status).toBe('fail')
    expect(check.details).toEqual([
      '/srv/shop/environments/staging.env (staging) is mode 644: open to every user',
      '/srv/shop/environments/production.env (production) is mode 640: open to its group',
    ])
    expect(check.hint).toBe('chmod 600 /srv/shop/environments/staging.env /srv/shop/environments/production.env')
  })

  it('is ok at 600 or 400, and warns about a missing file', () => {
    expect(envFileCheck([{ env: 'a', path: '/a', mode: 0o600 }, { env: 'b', path: '/b', mode: 0o400 }]).status).toBe('ok')
    expect(envFileCheck([{ env: 'a', path: '/a', error: 'missing' }])).toMatchObject({ status: 'warn', details: ['/a (a): missing'] })
  })
})

describe('envFileWarning', () => {
  it("says who can read the file and the chmod, for a deploy to warn with; nothing for the owner's only or an unread file", () => {
    expect(envFileWarning({ env: 'staging', path: '/srv/shop/environments/staging.env', mode: 0o644 })).toBe(
      "/srv/shop/environments/staging.env holds staging's secrets and is mode 644: open to every user; chmod 600 /srv/shop/environments/staging.env",
    )
    expect(envFileWarning({ env: 'staging', path: '/s.env', mode: 0o640 })).toContain('mode 640: open to its group')
    expect(envFileWarning({ env: 'staging', path: '/s.env', mode: 0o604 })).toContain('mode 604: open to every user')
    expect(envFileWarning({ env: 'staging', path: '/s.env', mode: 0o600 })).toBeUndefined()
    expect(envFileWarning({ env: 'staging', path: '/s.env', mode: 0o400 })).toBeUndefined()
    expect(envFileWarning({ env: 'staging', path: '/s.env', error: 'missing' })).toBeUndefined()
  })
})

describe('readEnvFileMode', () => {
  it("reads the file's permission bits, or that it is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-envfiles-'))
    try {
      const staging = environmentConfig('staging', dir)
      await writeFile(join(dir, 'staging.env'), 'A=1\n')
      await chmod(join(dir, 'staging.env'), 0o640)
      expect(await readEnvFileMode({ ...staging, envFile: join(dir, 'staging.env') })).toEqual({ env: 'staging', path: join(dir, 'staging.env'), mode: 0o640 })
      expect(await readEnvFileMode(staging)).toEqual({ env: 'staging', path: staging.envFile, error: 'missing' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
