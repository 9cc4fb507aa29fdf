import { describe, expect, it } from 'vitest'

import { DEFAULT_HOOK_TIMEOUT_MS, resolveHooks } from '../../../src/config/hooks.js'
import { formatPath } from '../../../src/config/rules.js'
import { validateDeployFile } from '../../../src/config/schema.js'

function issues(data: unknown): string[] {
  const result = validateDeployFile(data)
  return result.ok ? [] : result.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
}

const base = { app: 'shop', environments: { staging: {} } }

describe('hooks: in deploy.yml (SPEC §11)', () => {
  it('takes a command, or run: with timeout: and pass:, at the top level and per environment', () => {
    const result = validateDeployFile({
      ...base,
      hooks: { pre_deploy: './check.sh', post_deploy: { run: 'curl -fsS "$URL"', timeout: '30s', pass: ['URL'] } },
      environments: { staging: { hooks: { on_failure: 'echo failed', post_deploy: null } } },
    })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.value.hooks?.post_deploy).toEqual({ run: 'curl -fsS "$URL"', timeout: 30_000, pass: ['URL'] })
    expect(result.value.environments.staging?.hooks?.post_deploy).toBeNull()
  })

  it('names the key path of what is wrong, inside a hook too', () => {
    expect(issues({ ...base, hooks: { pre_deploy: '' } })).toEqual(['hooks.pre_deploy: expected a command'])
    expect(issues({ ...base, hooks: { pre_deploy: 5 } })).toEqual(['hooks.pre_deploy: expected a command, or a mapping with run: (and timeout:, pass:)'])
    expect(issues({ ...base, hooks: { pre_deploy: { timeout: '5s' } } })).toEqual(['hooks.pre_deploy: run: is required'])
    expect(issues({ ...base, hooks: { pre_deploy: { run: 'x', timeout: 'soon' } } })).toEqual(['hooks.pre_deploy: timeout: expected a duration like "90s"'])
    expect(issues({ ...base, hooks: { pre_deploy: { run: 'x', pass: ['not a name'] } } })).toEqual(['hooks.pre_deploy.pass[0]: expected a variable name like DATABASE_URL'])
    expect(issues({ ...base, hooks: { pre_deploy: { run: 'x', env: {} } } })).toEqual(['hooks.pre_deploy.env: unknown key'])
    expect(issues({ ...base, hooks: { before_deploy: 'x' } })).toEqual(['hooks.before_deploy: unknown key'])
    expect(issues({ ...base, hooks: { pre_deploy: null } })).toEqual(['hooks.pre_deploy: expected a command, or a mapping with run: (and timeout:, pass:)'])
    expect(issues({ app: 'shop', environments: { staging: { hooks: { on_failure: ['a'] } } } })).toEqual([
      'environments.staging.hooks.on_failure: expected a command, or a mapping with run: (and timeout:, pass:)',
    ])
  })
})

describe('resolveHooks', () => {
  it("replaces the top level's hooks key by key with the environment's, null turning one off", () => {
    const hooks = resolveHooks(
      { pre_deploy: 'top-pre', post_deploy: { run: 'top-post', timeout: 10_000, pass: ['A'] }, on_failure: 'top-fail' },
      { post_deploy: 'env-post', on_failure: null, pre_rollback: { run: 'env-pre-rb', pass: ['B'] } },
    )
    expect(hooks).toEqual({
      pre_deploy: { name: 'pre_deploy', run: 'top-pre', timeoutMs: DEFAULT_HOOK_TIMEOUT_MS, pass: [] },
      // The environment's post_deploy replaces the whole hook: not its timeout nor its pass: from the top level.
      post_deploy: { name: 'post_deploy', run: 'env-post', timeoutMs: DEFAULT_HOOK_TIMEOUT_MS, pass: [] },
      pre_rollback: { name: 'pre_rollback', run: 'env-pre-rb', timeoutMs: DEFAULT_HOOK_TIMEOUT_MS, pass: ['B'] },
    })
  })

  it('gives none without hooks: and the default timeout of 5m', () => {
    expect(resolveHooks(undefined, undefined)).toEqual({})
    expect(DEFAULT_HOOK_TIMEOUT_MS).toBe(300_000)
    expect(resolveHooks(undefined, { on_failure: { run: 'x', timeout: 2_000 } }).on_failure?.timeoutMs).toBe(2_000)
  })
})
