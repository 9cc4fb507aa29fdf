import { execFileSync } from 'node:child_process'
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { berth, cleanApp, copyFixtureAs, docker, expectRefused, requireEngine, seenOutput } from './engine.js'

/**
 * Issue 9, item 7 on a real engine: state files are input too. Release records, colour state, the lock and
 * the audit log cut short, of the wrong shape or empty: every command that would write refuses with exit 2
 * before anything changes, read-only commands mark the damage and show the rest, the file is never
 * overwritten, and the one command the message gives gets berth going again.
 */

const APP = 'berthstate'
const ENVS = ['staging', 'production']
const SECRET = 'fixture-staging-token-4f9c'
let dir: string
const tags = { t1: '', t2: '' }

const statePath = (env: string, file: string) => join(dir, '.berth', env, file)
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The command a hint ends with (cp, mv or rm of state files), run as the operator would paste it. */
function runFix(output: string): string {
  const command = /(?:cp|mv|rm) \/\S+(?: \/\S+)?$/m.exec(output)?.[0]
  expect(command, output).toBeDefined()
  execFileSync('sh', ['-c', command as string])
  return command as string
}

function json<T>(args: string[]): { code: number; value: T } {
  const r = berth(dir, [...args, '--json'])
  return { code: r.code, value: JSON.parse(r.stdout) as T }
}

interface StatusJson {
  environments: { environment: string; release?: string; damaged?: { file: string; problem: string; fix: string }[]; services: { container: string }[]; driftNote?: string }[]
}
interface ReleasesJson {
  releases: { tag: string; status: string }[]
  damaged?: { file: string; problem: string; fix: string }
  lastGood?: { file: string; releases: { tag: string; status: string }[] }
}
interface DoctorJson {
  exitCode: number
  checks: { id: string; status: string; details: string[]; hint?: string }[]
}

const stateCheck = () => json<DoctorJson>(['doctor']).value.checks.find((c) => c.id === 'state')

/** Makes a lock file look as old as one nobody is writing any more. */
function age(path: string): void {
  const old = new Date(Date.now() - 60_000)
  utimesSync(path, old, old)
}

const DAMAGE: [name: string, damage: (good: string) => string, problem: RegExp][] = [
  ['cut short', (good) => good.slice(0, Math.floor(good.length / 2)), /not valid JSON: it ends before the JSON does \(cut short\)/],
  ['of the wrong shape (a list)', () => '[{"tag": 5}]', /top level: expected a mapping, got a list/],
  ['of the wrong shape (releases not a list)', () => '{"releases": 5}', /version: is required; releases: expected a list, got number/],
  ['empty', () => '', /the file is empty/],
  ['an env file pasted over it', () => `SECRET_TOKEN=${SECRET}\n`, /not valid JSON(?! at)/],
]

describe('damaged state files', () => {
  beforeAll(() => {
    requireEngine()
    cleanApp(APP, ENVS)
    dir = copyFixtureAs(APP, { staging: 18781, production: 18782 })
    for (const env of ENVS) chmodSync(join(dir, 'env', `${env}.env`), 0o600)
    const deployYml = join(dir, 'deploy.yml')
    // keep 1: the third release of staging drops the first, which production runs.
    writeFileSync(deployYml, readFileSync(deployYml, 'utf8').replace('keep: 3', 'keep: 1'))
    for (const version of ['v1', 'v2']) {
      writeFileSync(join(dir, 'web', 'www', 'version'), `${version}\n`)
      const r = berth(dir, ['deploy', 'staging'])
      expect(r.code, r.stderr).toBe(0)
    }
    const releases = json<ReleasesJson>(['releases', 'staging']).value.releases
    tags.t2 = releases[0]?.tag ?? ''
    tags.t1 = releases[1]?.tag ?? ''
    const promoted = berth(dir, ['deploy', 'production', '--tag', tags.t1])
    expect(promoted.code, promoted.stderr).toBe(0)
  }, 240_000)

  afterAll(() => cleanApp(APP, ENVS))

  describe.each(DAMAGE)("staging's releases.json %s", (_name, damage, problem) => {
    let path: string
    let good: string
    let damaged: string
    beforeAll(() => {
      path = statePath('staging', 'releases.json')
      good = readFileSync(path, 'utf8')
      damaged = damage(good)
      writeFileSync(path, damaged)
    })

    it('deploy, deploy --tag, rollback and down are refused with exit 2, naming the file and the fix, changing nothing', () => {
      const message = new RegExp(`error: ${escape(path)} is damaged: ${problem.source}; nothing was changed\\nhint: Restore the last good copy berth kept: cp ${escape(path)}\\.last-good ${escape(path)}\\n`)
      for (const args of [['deploy', 'staging'], ['deploy', 'staging', '--tag', tags.t2], ['rollback', 'staging'], ['rollback', 'staging', '--to', tags.t1], ['down', 'staging']]) {
        expectRefused(dir, args, 2, message)
      }
      const refused = json<{ ok: boolean; error: { code: string; exitCode: number } }>(['deploy', 'staging'])
      expect(refused).toEqual({ code: 2, value: { ok: false, error: expect.objectContaining({ code: 'STATE_DAMAGED', exitCode: 2 }) } })
    })

    it('status marks staging, still lists its containers and shows production as usual (exit 0)', () => {
      const { code, value } = json<StatusJson>(['status'])
      expect(code).toBe(0)
      const [staging, production] = value.environments
      expect(staging?.damaged).toEqual([{ file: path, problem: expect.stringMatching(problem), fix: `Restore the last good copy berth kept: cp ${path}.last-good ${path}` }])
      expect(staging?.release).toBeUndefined()
      expect(staging?.services.map((s) => s.container).sort()).toEqual([`${APP}-staging-store-1`, `${APP}-staging-web-1`])
      expect(production).toMatchObject({ environment: 'production', release: tags.t1 })
      expect(production?.damaged).toBeUndefined()
      const text = berth(dir, ['status'])
      expect(text.code).toBe(0)
      expect(text.stdout).toContain(`staging (${APP}-staging) on the local engine: state damaged, release unknown\n  state damaged: ${path}: `)
      expect(text.stdout).toContain(`production (${APP}-production) on the local engine: release ${tags.t1}`)
    })

    it('releases exits 2 with the problem, the fix and the history the last good copy holds', () => {
      const { code, value } = json<ReleasesJson>(['releases', 'staging'])
      expect(code).toBe(2)
      expect(value.releases).toEqual([])
      expect(value.damaged).toMatchObject({ file: path, problem: expect.stringMatching(problem) })
      expect(value.lastGood?.releases.map((r) => [r.tag, r.status])).toEqual([[tags.t2, 'active'], [tags.t1, 'previous']])
      const text = berth(dir, ['releases', 'staging'])
      expect(text.code).toBe(2)
      expect(text.stdout).toContain(`staging's release records are damaged: ${path}: `)
      expect(text.stdout).toContain(`the last good copy (${path}.last-good) holds:`)
    })

    it("doctor fails its state check (exit 1) and still runs the others", () => {
      const { code, value } = json<DoctorJson>(['doctor'])
      expect(code).toBe(1)
      expect(value.checks.find((c) => c.id === 'state')).toMatchObject({ status: 'fail', details: [expect.stringMatching(new RegExp(`^staging: ${escape(path)}: ${problem.source}`))] })
      expect(value.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['state'])
    })

    it('left the file as it was, and the fix from the message restores the history', () => {
      expect(readFileSync(path, 'utf8')).toBe(damaged)
      expect(runFix(berth(dir, ['deploy', 'staging']).stderr)).toBe(`cp ${path}.last-good ${path}`)
      expect(readFileSync(path, 'utf8')).toBe(good)
      const { code, value } = json<ReleasesJson>(['releases', 'staging'])
      expect(code).toBe(0)
      expect(value.releases.map((r) => r.tag)).toEqual([tags.t2, tags.t1])
      expect(stateCheck()?.status).toBe('ok')
    })
  })

  it('never quoted what the damaged files hold (JSON.parse does), so not the env file pasted over one either', () => {
    const all = seenOutput.join('\n')
    expect(all).not.toContain(SECRET)
    expect(all).not.toContain('SECRET_TOK')
  })

  it("keeps the images of production's releases while production's records are damaged, and the fix brings production back", () => {
    // Production is down: no container protects t1's images, only its records (t1 is its rollback target).
    expect(berth(dir, ['down', 'production']).code).toBe(0)
    const path = statePath('production', 'releases.json')
    const good = readFileSync(path, 'utf8')
    writeFileSync(path, '[{"tag": 5}]')

    writeFileSync(join(dir, 'web', 'www', 'version'), 'v3\n')
    const r = berth(dir, ['deploy', 'staging'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`retention skipped: the release records of production (${path}) are damaged, so berth cannot tell which images they use; ${tags.t1} and their images are kept`)
    expect(docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${APP}-web:${tags.t1}`)).toBe(`${APP}-web:${tags.t1}`)
    expect(docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${APP}-store:${tags.t1}`)).toBe(`${APP}-store:${tags.t1}`)
    expect(json<ReleasesJson>(['releases', 'staging']).value.releases.map((r) => r.tag)).toContain(tags.t1)
    expect(readFileSync(path, 'utf8')).toBe('[{"tag": 5}]')

    expect(runFix(berth(dir, ['rollback', 'production']).stderr)).toBe(`cp ${path}.last-good ${path}`)
    expect(readFileSync(path, 'utf8')).toBe(good)
    const back = berth(dir, ['rollback', 'production'])
    expect(back.code, back.stderr).toBe(0)
    expect(json<StatusJson>(['status', 'production']).value.environments[0]).toMatchObject({ release: tags.t1 })
  }, 180_000)

  describe('the lock', () => {
    const lock = () => statePath('staging', 'lock')
    afterAll(() => rmSync(lock(), { force: true }))

    it.each([
      ['cut short', '{"pid": 12', /not valid JSON: it ends before the JSON does \(cut short\)/],
      ['of the wrong shape', '{"pid": "12", "host": "h", "by": "b", "command": "c", "startedAt": "s"}', /pid: expected a process id/],
    ])('an old lock file %s: deploy, lock and unlock refused with exit 2, doctor fails, the rm from the message clears it', (_name, content, problem) => {
      writeFileSync(lock(), content)
      age(lock())
      const message = new RegExp(`error: ${escape(lock())} is damaged: ${problem.source}; nothing was changed\\nhint: berth cannot tell which run holds it\\. If no berth run of staging is going on, remove it: rm ${escape(lock())}\\n`)
      for (const args of [['deploy', 'staging'], ['lock', 'staging', '-m', 'freeze'], ['unlock', 'staging']]) expectRefused(dir, args, 2, message)
      expect(stateCheck()).toMatchObject({ status: 'fail', details: [expect.stringMatching(new RegExp(`^staging: ${escape(lock())}: ${problem.source}`))] })
      expect(json<DoctorJson>(['doctor']).value.checks.find((c) => c.id === 'locks')?.status).toBe('ok')
      expect(readFileSync(lock(), 'utf8')).toBe(content)
      expect(runFix(berth(dir, ['deploy', 'staging']).stderr)).toBe(`rm ${lock()}`)
      expect(existsSync(lock())).toBe(false)
      expect(stateCheck()?.status).toBe('ok')
    })

    it('an empty lock file is being written while fresh (exit 5) and taken over with a warning once old', () => {
      writeFileSync(lock(), '')
      expectRefused(dir, ['lock', 'staging', '-m', 'freeze'], 5, /staging is being locked by another run at this moment/)
      age(lock())
      expect(json<DoctorJson>(['doctor']).value.checks.find((c) => c.id === 'locks')).toMatchObject({ status: 'warn', details: [`staging: ${lock()} is empty (left by a run killed while taking it)`] })
      const held = berth(dir, ['lock', 'staging', '-m', 'freeze'])
      expect(held.code, held.stderr).toBe(0)
      expect(held.stderr).toContain('taking over a stale lock on staging: an empty lock file, left by a run killed while taking it')
      expect(berth(dir, ['unlock', 'staging']).code).toBe(0)
      expect(existsSync(lock())).toBe(false)
    })
  })

  describe('the audit log', () => {
    const audit = () => statePath('staging', 'audit.log')
    const holdAndRelease = () => {
      expect(berth(dir, ['lock', 'staging', '-m', 'audit test']).code).toBe(0)
      expect(berth(dir, ['unlock', 'staging']).code).toBe(0)
    }

    it('a last line cut short never stops a run: new entries start on their own line, the cut line stays, doctor warns and its sed drops it', () => {
      const before = readFileSync(audit(), 'utf8')
      const cut = '{"action":"deploy","by":"alice@host","at":"2026-11-'
      appendFileSync(audit(), cut)
      const cutLine = before.split('\n').length
      holdAndRelease()
      const lines = readFileSync(audit(), 'utf8').split('\n')
      expect(lines[cutLine - 1]).toBe(cut)
      expect(lines.slice(cutLine, cutLine + 2).map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['lock', 'unlock'])
      const check = stateCheck()
      expect(check).toMatchObject({ status: 'warn', details: [`staging: ${audit()}: line ${cutLine}: not valid JSON: it ends before the JSON does (cut short)`] })
      expect(json<DoctorJson>(['doctor']).code).toBe(0)
      execFileSync('sh', ['-c', /sed -i '\S+' \S+$/.exec(check?.hint ?? '')?.[0] ?? 'false'])
      expect(readFileSync(audit(), 'utf8').split('\n')).not.toContain(cut)
      expect(stateCheck()?.status).toBe('ok')
    })

    it('a line of the wrong shape is named by doctor; an empty log is a log without entries', () => {
      appendFileSync(audit(), '{"action": 5}\n')
      const line = readFileSync(audit(), 'utf8').trimEnd().split('\n').length
      expect(stateCheck()).toMatchObject({ status: 'warn', details: [expect.stringContaining(`line ${line}: action: expected deploy, rollback, down, lock, unlock or maintenance`)] })
      writeFileSync(audit(), '')
      expect(stateCheck()?.status).toBe('ok')
      holdAndRelease()
      expect(readFileSync(audit(), 'utf8').trimEnd().split('\n')).toHaveLength(2)
    })
  })

  describe("a blue-green environment's colours.json", () => {
    let config: string
    const colours = () => statePath('canary', 'colours.json')
    beforeAll(() => {
      writeFileSync(join(dir, 'env', 'canary.env'), `WEB_PORT=18783\nAPP_ENV=canary\nSECRET_TOKEN=${SECRET}\n`, { mode: 0o600 })
      mkdirSync(join(dir, '.berth', 'canary'), { recursive: true, mode: 0o700 })
      config = join(dir, 'deploy-canary.yml')
      writeFileSync(
        config,
        `${readFileSync(join(dir, 'deploy.yml'), 'utf8')}  canary:\n    env_file: env/canary.env\n    required: [SECRET_TOKEN]\n    strategy: blue-green\n    routes:\n      - { listen: 18783, service: web, port: 8080 }\n`,
      )
    })
    afterAll(() => rmSync(join(dir, '.berth', 'canary'), { recursive: true, force: true }))

    it.each([
      ['cut short', '{"live": "blue", "upstreams": {"blue": {"web:8080": 3', /not valid JSON: it ends before the JSON does \(cut short\)/],
      ['of the wrong shape', '{"live": "red", "upstreams": {"blue": {}, "green": {}}}', /live: expected blue or green/],
      ['empty', '', /the file is empty/],
    ])('%s: deploy, rollback and down refused with exit 2, status marks it, and the mv from the message clears it', (_name, content, problem) => {
      writeFileSync(colours(), content)
      const message = new RegExp(`error: ${escape(colours())} is damaged: ${problem.source}; nothing was changed\\nhint: berth kept no good copy of it\\. .*knows of no live colour.*: mv ${escape(colours())} ${escape(colours())}\\.damaged-\\d{8}T\\d{6}Z\\n`)
      for (const args of [['deploy', 'canary'], ['rollback', 'canary'], ['down', 'canary']]) expectRefused(dir, [...args, '--config', config], 2, message)
      const { code, value } = json<StatusJson>(['status', '--config', config])
      expect(code).toBe(0)
      expect(value.environments.find((e) => e.environment === 'canary')?.damaged).toEqual([expect.objectContaining({ file: colours(), problem: expect.stringMatching(problem) })])
      expect(value.environments.find((e) => e.environment === 'staging')?.damaged).toBeUndefined()
      expect(json<DoctorJson>(['doctor', '--config', config]).value.checks.find((c) => c.id === 'state')).toMatchObject({ status: 'fail', details: [expect.stringContaining(`canary: ${colours()}: `)] })
      expect(readFileSync(colours(), 'utf8')).toBe(content)
      runFix(berth(dir, ['deploy', 'canary', '--config', config]).stderr)
      expect(existsSync(colours())).toBe(false)
      expect(json<StatusJson>(['status', 'canary', '--config', config]).value.environments[0]?.damaged).toBeUndefined()
    })
  })
})
