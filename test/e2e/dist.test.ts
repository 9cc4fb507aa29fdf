import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cleanApp, copyFixture, docker, httpGet, repoRoot, requireEngine } from './engine.js'

/**
 * SPEC §11's "install it anywhere", second part: `npm run dist`'s single executable (scripts/dist.mjs) runs
 * where there is no repository, no node_modules and no Node: built into a temporary directory outside the
 * repository (from the dist/ the suite built), run from another one with a PATH that holds docker alone.
 */
const APP = 'berthsea'
const work = mkdtempSync(join(tmpdir(), 'berth-dist-'))
const exe = join(work, 'bin', 'berth')
let app: string
// Only docker on PATH: no node, no npm, no git.
const path = join(work, 'path')
const env = { PATH: path, HOME: work, NO_COLOR: '1' }
const run = (args: string[]) => spawnSync(exe, args, { cwd: app, encoding: 'utf8', env, timeout: 120_000 })

describe('the single executable (npm run dist)', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ['staging'])
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'dist.mjs'), exe], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] })
    mkdirSync(path)
    symlinkSync(execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim(), join(path, 'docker'))
    app = copyFixture('tiny')
    chmodSync(join(app, 'env', 'staging.env'), 0o600)
  }, 120_000)

  afterAll(() => {
    cleanApp(APP, ['staging'])
    rmSync(work, { recursive: true, force: true })
    if (app) rmSync(app, { recursive: true, force: true })
  })

  it('is one file, and says its version and commit without Node on PATH', () => {
    expect(statSync(exe).isFile()).toBe(true)
    expect(spawnSync('/bin/sh', ['-c', 'command -v docker && ! command -v node'], { env }).status).toBe(0)
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const r = run(['--version'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^berth/${version} \\S+ node-v\\S+ \\(commit ${head}(-dirty)?\\)\\n$`))
    expect(r.stderr).toBe('')
  })

  it('runs status, a deploy that answers over HTTP, and status again', async () => {
    const before = run(['status'])
    expect(before.status, before.stderr).toBe(0)
    expect(before.stdout).toMatch(/^staging \(berthsea-staging\).*no release deployed/m)

    const deploy = run(['deploy', 'staging'])
    expect(deploy.status, deploy.stderr).toBe(0)
    expect(deploy.stdout).toMatch(/^staging is running release \d{8}-\d{6}/m)
    expect(await httpGet('http://127.0.0.1:19391/health')).toEqual({ status: 200, body: 'ok' })
    expect(docker('inspect', '--format', '{{index .Config.Labels "berth.app"}} {{.State.Health.Status}}', 'berthsea-staging-web-1')).toBe('berthsea healthy')

    const after = run(['status'])
    expect(after.status, after.stderr).toBe(0)
    expect(after.stdout).toMatch(/^staging \(berthsea-staging\).*release \d{8}-\d{6} since/m)
    expect(after.stdout).toMatch(/^\s+web\s+running\s+healthy/m)
  }, 120_000)
})
