import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  activate,
  findActive,
  findPrevious,
  imagesToRemove,
  planRetention,
  readReleases,
  type ReleaseRecord,
  releasesPath,
  type ReleaseStatus,
  removeUnreferencedConfigs,
  setStatus,
  withRecord,
  writeReleases,
} from '../../../src/state/releases.js'
import { StateDamagedError } from '../../../src/errors.js'
import { configPath, environmentsWithState } from '../../../src/state/paths.js'
import { localState } from '../../../src/target/local.js'
import { localFiles } from '../../../src/target/files.js'

/** Release `tag` deployed at minute `minute`, with web built for it and postgres pulled. */
function record(tag: string, minute: number, status: ReleaseStatus = 'failed', over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    tag,
    deployedAt: at(minute),
    by: 'deploy@host',
    status,
    images: { web: `shop-web:${tag}`, db: 'postgres:16' },
    builtImages: [`shop-web:${tag}`],
    envHash: 'sha256:0',
    configFile: `${tag}.lx0abc.compose.yaml`,
    ...over,
  }
}

function at(minute: number): string {
  return new Date(Date.UTC(2026, 10, 22, 9, minute)).toISOString()
}

/** What deploy does: record the new release as failed, then activate it once healthy. */
function deploy(releases: ReleaseRecord[], tag: string, minute: number): ReleaseRecord[] {
  return activate(withRecord(releases, record(tag, minute)), tag, at(minute + 1))
}

function statuses(releases: readonly ReleaseRecord[]): Record<string, ReleaseStatus> {
  return Object.fromEntries(releases.map((r) => [r.tag, r.status]))
}

describe('release statuses across deploys and rollbacks', () => {
  it('first deploy is active with no previous', () => {
    const rs = deploy([], 'A', 0)
    expect(statuses(rs)).toEqual({ A: 'active' })
    expect(findActive(rs)?.activeSince).toBe(at(1))
    expect(findPrevious(rs)).toBeUndefined()
  })

  it('deploy B makes A previous; deploy C makes B previous and A superseded', () => {
    let rs = deploy([], 'A', 0)
    rs = deploy(rs, 'B', 10)
    expect(statuses(rs)).toEqual({ B: 'active', A: 'previous' })
    rs = deploy(rs, 'C', 20)
    expect(statuses(rs)).toEqual({ C: 'active', B: 'previous', A: 'superseded' })
    expect(rs.map((r) => r.tag)).toEqual(['C', 'B', 'A']) // newest first
  })

  it('rollback to B marks C rolled-back and makes A previous', () => {
    let rs = deploy(deploy(deploy([], 'A', 0), 'B', 10), 'C', 20)
    rs = activate(rs, 'B', at(30), 'rolled-back')
    expect(statuses(rs)).toEqual({ C: 'rolled-back', B: 'active', A: 'previous' })
    expect(findActive(rs)?.activeSince).toBe(at(30))
    expect(findPrevious(rs)?.tag).toBe('A')
  })

  it('after rolling back to A, the next deploy makes A previous (most recently active), not B', () => {
    let rs = deploy(deploy(deploy([], 'A', 0), 'B', 10), 'C', 20)
    rs = activate(rs, 'A', at(30), 'rolled-back')
    expect(statuses(rs)).toEqual({ C: 'rolled-back', B: 'previous', A: 'active' })
    rs = deploy(rs, 'D', 40)
    expect(statuses(rs)).toEqual({ D: 'active', C: 'rolled-back', B: 'superseded', A: 'previous' })
  })

  it('a failed release never becomes previous', () => {
    let rs = deploy(deploy([], 'A', 0), 'B', 10)
    rs = withRecord(rs, record('C', 20)) // C never became healthy
    expect(statuses(rs)).toEqual({ C: 'failed', B: 'active', A: 'previous' })
    rs = deploy(rs, 'D', 30)
    expect(statuses(rs)).toEqual({ D: 'active', C: 'failed', B: 'previous', A: 'superseded' })
    expect(findPrevious(rs)?.tag).toBe('B')
  })

  it('withRecord replaces an older record of the same tag', () => {
    let rs = deploy([], 'A', 0)
    rs = withRecord(rs, record('B', 10))
    rs = withRecord(rs, record('B', 10, 'failed', { durationMs: 1234 }))
    expect(rs.filter((r) => r.tag === 'B')).toHaveLength(1)
    expect(rs.find((r) => r.tag === 'B')?.durationMs).toBe(1234)
  })

  it('setStatus changes one release and recomputes previous', () => {
    let rs = deploy(deploy(deploy([], 'A', 0), 'B', 10), 'C', 20)
    rs = setStatus(rs, 'B', 'failed')
    expect(statuses(rs)).toEqual({ C: 'active', B: 'failed', A: 'previous' })
  })

  it('does not mutate its input', () => {
    const rs = deploy(deploy([], 'A', 0), 'B', 10)
    const copy = structuredClone(rs)
    deploy(rs, 'C', 20)
    activate(rs, 'A', at(30), 'rolled-back')
    setStatus(rs, 'A', 'failed')
    expect(rs).toEqual(copy)
  })
})

describe('planRetention', () => {
  it('keeps the newest N and drops the rest', () => {
    let rs: ReleaseRecord[] = []
    for (const [i, tag] of ['A', 'B', 'C', 'D', 'E'].entries()) rs = deploy(rs, tag, i * 10)
    const { kept, dropped } = planRetention(rs, 3)
    expect(kept.map((r) => r.tag)).toEqual(['E', 'D', 'C'])
    expect(dropped.map((r) => r.tag)).toEqual(['B', 'A'])
  })

  it('never drops the active or the previous release, even beyond N', () => {
    let rs: ReleaseRecord[] = []
    for (const [i, tag] of ['A', 'B', 'C', 'D', 'E'].entries()) rs = deploy(rs, tag, i * 10)
    rs = activate(rs, 'B', at(60), 'rolled-back') // B active, E rolled-back, D previous
    rs = activate(rs, 'A', at(70), 'rolled-back') // A active, B rolled-back, D previous
    expect(findActive(rs)?.tag).toBe('A')
    const { kept, dropped } = planRetention(rs, 1)
    expect(kept.map((r) => r.tag)).toEqual(['E', 'D', 'A'])
    expect(dropped.map((r) => r.tag)).toEqual(['C', 'B'])
    expect(kept.find((r) => r.tag === 'D')?.status).toBe('previous')
  })

  it('keeps everything when there are fewer than N', () => {
    const rs = deploy(deploy([], 'A', 0), 'B', 10)
    expect(planRetention(rs, 5)).toEqual({ kept: rs, dropped: [] })
  })
})

describe('imagesToRemove', () => {
  it('removes the built images of dropped releases', () => {
    const dropped = [record('A', 0, 'superseded')]
    const kept = [record('B', 10, 'active')]
    expect(imagesToRemove(dropped, kept)).toEqual(['shop-web:A'])
  })

  it('never removes pulled images (only builtImages)', () => {
    const dropped = [record('A', 0, 'superseded')]
    expect(imagesToRemove(dropped, [])).not.toContain('postgres:16')
  })

  it('keeps an image a kept release of another environment runs (promotion)', () => {
    // staging built X; production was deployed with --tag X, so its record only lists X under images.
    const stagingDropped = record('X', 0, 'superseded')
    const productionKept = record('X', 5, 'active', { builtImages: [] })
    expect(imagesToRemove([stagingDropped], [record('Y', 10, 'active'), productionKept])).toEqual([])
  })

  it('keeps an image still named in a kept release builtImages', () => {
    const dropped = [record('A', 0, 'superseded', { builtImages: ['shop-web:A', 'shop-worker:A'] })]
    const kept = [record('B', 10, 'active', { images: { web: 'shop-web:B' }, builtImages: ['shop-worker:A'] })]
    expect(imagesToRemove(dropped, kept)).toEqual(['shop-web:A'])
  })

  it('lists an image once even when two dropped releases built it', () => {
    const dropped = [record('A', 0, 'superseded'), record('A2', 1, 'superseded', { builtImages: ['shop-web:A'] })]
    expect(imagesToRemove(dropped, [])).toEqual(['shop-web:A'])
  })
})

describe('release files', () => {
  let stateDir: string
  beforeEach(async () => {
    stateDir = join(await mkdtemp(join(tmpdir(), 'berth-store-')), '.berth')
  })
  afterEach(async () => {
    await rm(join(stateDir, '..'), { recursive: true, force: true })
  })

  it('reads nothing for an environment without state', async () => {
    expect(await readReleases(localState(stateDir), 'staging')).toEqual([])
    expect(await environmentsWithState(localState(stateDir))).toEqual([])
  })

  it('round-trips releases, privately and atomically', async () => {
    const rs = deploy(deploy([], 'A', 0), 'B', 10)
    await writeReleases(localState(stateDir), 'staging', rs)
    await writeReleases(localState(stateDir), 'staging', rs) // overwriting leaves nothing behind either
    expect(await readReleases(localState(stateDir), 'staging')).toEqual(rs)

    const envDir = join(stateDir, 'staging')
    expect((await stat(envDir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(envDir, 'releases.json'))).mode & 0o777).toBe(0o600)
    // Beside it, the last good copy berth restores from: the same content, as private.
    expect((await readdir(envDir)).sort()).toEqual(['releases.json', 'releases.json.last-good'])
    expect(await readFile(join(envDir, 'releases.json.last-good'), 'utf8')).toBe(await readFile(join(envDir, 'releases.json'), 'utf8'))
    expect((await stat(join(envDir, 'releases.json.last-good'))).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(join(envDir, 'releases.json'), 'utf8'))).toMatchObject({ version: 1 })
    expect(await environmentsWithState(localState(stateDir))).toEqual(['staging'])
  })

  it('keeps environments apart', async () => {
    await writeReleases(localState(stateDir), 'staging', deploy([], 'A', 0))
    await writeReleases(localState(stateDir), 'production', deploy([], 'B', 0))
    expect((await readReleases(localState(stateDir), 'staging')).map((r) => r.tag)).toEqual(['A'])
    expect((await readReleases(localState(stateDir), 'production')).map((r) => r.tag)).toEqual(['B'])
    expect(await environmentsWithState(localState(stateDir))).toEqual(['production', 'staging'])
  })

  it('removes config files no kept release references, and nothing else', async () => {
    const releasesDir = join(stateDir, 'staging', 'releases')
    await localFiles.writeAtomic(configPath(stateDir, 'staging', 'A.lx0abc.compose.yaml'), 'services: {}\n')
    await localFiles.writeAtomic(configPath(stateDir, 'staging', 'B.lx0abc.compose.yaml'), 'services: {}\n')
    await localFiles.writeAtomic(configPath(stateDir, 'staging', 'B.override.yaml'), 'services: {}\n')
    await removeUnreferencedConfigs(localState(stateDir), 'staging', [record('B', 10, 'active')])
    expect((await readdir(releasesDir)).sort()).toEqual(['B.lx0abc.compose.yaml', 'B.override.yaml'])
  })

  it('removing configs of an environment without a releases folder is a no-op', async () => {
    await expect(removeUnreferencedConfigs(localState(stateDir), 'staging', [])).resolves.toBeUndefined()
  })

  it('reads back every field berth records', async () => {
    const full = record('20261122-093000', 0, 'active', {
      activeSince: at(1),
      git: 'v1.2-3-gabc-dirty',
      configHashes: { web: 'a'.repeat(64) },
      colour: 'green',
      serviceReleases: { db: '20261121-170512' },
      durationMs: 4200,
    })
    await writeReleases(localState(stateDir), 'staging', [full])
    expect(await readReleases(localState(stateDir), 'staging')).toEqual([full])
  })
})

describe('damaged release files', () => {
  let stateDir: string
  let path: string
  beforeEach(async () => {
    stateDir = join(await mkdtemp(join(tmpdir(), 'berth-store-')), '.berth')
    path = releasesPath(stateDir, 'staging')
    await writeReleases(localState(stateDir), 'staging', deploy(deploy([], 'A', 0), 'B', 10))
  })
  afterEach(async () => {
    await rm(join(stateDir, '..'), { recursive: true, force: true })
  })

  const good = async () => readFile(path, 'utf8')

  it.each([
    // The three of issue 9: each used to be read as "no history" or to fail with JSON.parse's words.
    ['the records replaced by a list', () => '[{"tag": 5}]', 'top level: expected a mapping, got a list'],
    ['a record of the wrong shape', () => '{"version": 1, "releases": [{"tag": 5}]}', 'releases[0].tag: expected a string, got number; releases[0].deployedAt: is required; releases[0].by: is required (and 5 more)'],
    ['releases not a list', () => '{"releases": 5}', 'version: is required; releases: expected a list, got number'],
    ['cut short', async () => (await good()).slice(0, 200), 'not valid JSON: it ends before the JSON does (cut short)'],
    ['empty', () => '', 'the file is empty'],
    ['a status berth does not know', async () => (await good()).replace('"previous"', '"live"'), 'releases[1].status: expected active, previous, superseded, failed or rolled-back'],
    ['two active releases', async () => (await good()).replace('"previous"', '"active"'), 'releases[1].status: a second active release (releases[0] is active)'],
    ['one tag twice', async () => (await good()).replace('"tag": "A"', '"tag": "B"'), 'releases[1].tag: B is also the tag of releases[0]'],
    ['a config file outside releases/', async () => (await good()).replace('A.lx0abc.compose.yaml', '../../../etc/passwd'), 'releases[1].configFile: expected a file name in the releases/ folder'],
    ['a newer version', async () => (await good()).replace('"version": 1', '"version": 2'), 'version: expected 1 (the only version this berth reads)'],
  ])('refuses records %s, naming the file, the problem and the cp that restores them', async (_name, content, problem) => {
    const damaged = await content()
    await writeFile(path, damaged)
    const error = await readReleases(localState(stateDir), 'staging').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateDamagedError)
    expect(error).toMatchObject({ code: 'STATE_DAMAGED', exitCode: 2, file: path, problem, fix: `Restore the last good copy berth kept: cp ${path}.last-good ${path}` })
    // Never overwritten: the next write is refused and leaves the file as it was.
    await expect(writeReleases(localState(stateDir), 'staging', [])).rejects.toMatchObject({ code: 'STATE_DAMAGED_DURING_RUN' })
    expect(await readFile(path, 'utf8')).toBe(damaged)
  })

  it('the fix restores the history as berth last wrote it', async () => {
    const before = await readReleases(localState(stateDir), 'staging')
    await writeFile(path, '{"releases": 5}')
    await copyFile(`${path}.last-good`, path)
    expect(await readReleases(localState(stateDir), 'staging')).toEqual(before)
  })
})
