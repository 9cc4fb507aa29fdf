import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as z from 'zod/mini'

import { parseState, readStateFile, shellWord, type StateFile, writeStateFile } from '../../../src/state/files.js'
import { ExitCode, StateDamagedError } from '../../../src/errors.js'
import { lastGoodPath } from '../../../src/state/paths.js'
import { localFiles } from '../../../src/target/files.js'

interface Doc {
  version: 1
  items: { name: string; port: number }[]
}

const KIND: StateFile<Doc> = {
  schema: z.looseObject({ version: z.literal(1), items: z.array(z.looseObject({ name: z.string(), port: z.int() })) }),
  forgets: 'forgets the items',
}

const good: Doc = { version: 1, items: [{ name: 'web', port: 8080 }] }
const SECRET = 'hunter2-secret-value'

describe('parseState', () => {
  it('says what is wrong where, in the words of the config errors', () => {
    expect(parseState('{"version": 1, "items": [{"name": 5, "port": 1}]}', KIND.schema)).toEqual({ ok: false, problem: 'items[0].name: expected a string, got number' })
    expect(parseState('{"version": 1, "items": 5}', KIND.schema)).toEqual({ ok: false, problem: 'items: expected a list, got number' })
    expect(parseState('{"version": 1}', KIND.schema)).toEqual({ ok: false, problem: 'items: is required' })
    expect(parseState('[]', KIND.schema)).toEqual({ ok: false, problem: 'top level: expected a mapping, got a list' })
  })

  it("phrases what neither the schema nor berth does in zod's English, though zod's mini API sets no locale", () => {
    const before = z.config().localeError
    z.config({ localeError: undefined })
    try {
      expect(parseState('{"lease": -5}', z.looseObject({ lease: z.int().check(z.positive()) }))).toEqual({ ok: false, problem: 'lease: Too small: expected number to be >0' })
    } finally {
      z.config({ localeError: before })
    }
  })

  it('lists at most three problems', () => {
    const items = Array.from({ length: 5 }, () => ({ name: 1, port: 1 }))
    expect(parseState(JSON.stringify({ version: 1, items }), KIND.schema)).toMatchObject({ problem: expect.stringMatching(/^items\[0\]\.name: .*; items\[2\]\.name: [^;]*\(and 2 more\)$/) })
  })

  it('tells a file cut short, an empty one and one that is no JSON apart', () => {
    const text = JSON.stringify(good, null, 2)
    for (const cut of [text.slice(0, 20), text.slice(0, -1), '{"version": 1, "items": [{"name": "']) {
      expect(parseState(cut, KIND.schema)).toEqual({ ok: false, problem: 'not valid JSON: it ends before the JSON does (cut short)' })
    }
    expect(parseState('', KIND.schema)).toEqual({ ok: false, problem: 'the file is empty' })
    expect(parseState('\n  \n', KIND.schema)).toEqual({ ok: false, problem: 'the file is empty' })
    expect(parseState('{\n  "version": 1,\n  "items": [1 2]\n}', KIND.schema)).toEqual({ ok: false, problem: 'not valid JSON at line 3, column 15' })
    expect(parseState('{\n  "items": [,]\n}', KIND.schema)).toEqual({ ok: false, problem: 'not valid JSON' })
  })

  it('never quotes the content (JSON.parse does), so no secret can show', () => {
    for (const text of [`${SECRET} {`, `{"version": 1, "items": [{"name": "${SECRET}", "port": "${SECRET}"}]}`, `{"${SECRET}": }`]) {
      const parsed = parseState(text, KIND.schema)
      expect(parsed.ok).toBe(false)
      expect(JSON.stringify(parsed)).not.toContain(SECRET)
    }
  })
})

describe('state files on disk', () => {
  let dir: string
  let path: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-state-'))
    path = join(dir, 'env', 'doc.json')
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads nothing when there is no file', async () => {
    expect(await readStateFile(localFiles, path, KIND)).toBeUndefined()
  })

  it('writes privately, keeps what it wrote as the last good copy, and reads it back', async () => {
    await writeStateFile(localFiles, path, KIND, good)
    const next: Doc = { version: 1, items: [...good.items, { name: 'api', port: 9090 }] }
    await writeStateFile(localFiles, path, KIND, next)
    expect(await readStateFile(localFiles, path, KIND)).toEqual(next)
    expect(await readFile(lastGoodPath(path), 'utf8')).toBe(await readFile(path, 'utf8'))
    expect((await stat(lastGoodPath(path))).mode & 0o777).toBe(0o600)
    expect((await readdir(join(dir, 'env'))).sort()).toEqual(['doc.json', 'doc.json.last-good'])
  })

  it('keeps fields it does not know (a newer berth wrote them) when it rewrites the file', async () => {
    await writeStateFile(localFiles, path, KIND, good)
    await writeFile(path, JSON.stringify({ ...good, later: { kept: true } }))
    const read = await readStateFile(localFiles, path, KIND)
    await writeStateFile(localFiles, path, KIND, read as Doc)
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ later: { kept: true } })
  })

  it('refuses a damaged file with exit 2, and the fix restores the last good copy', async () => {
    await writeStateFile(localFiles, path, KIND, good)
    await writeFile(path, '{"version": 1, "items": [{"name": 5}]}')
    const error = await readStateFile(localFiles, path, KIND).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateDamagedError)
    expect(error).toMatchObject({
      code: 'STATE_DAMAGED',
      exitCode: ExitCode.usage,
      file: path,
      problem: 'items[0].name: expected a string, got number; items[0].port: is required',
      message: `${path} is damaged: items[0].name: expected a string, got number; items[0].port: is required; nothing was changed`,
      hint: `Restore the last good copy berth kept: cp ${lastGoodPath(path)} ${path}`,
    })
  })

  it('without a good copy, the fix moves the damaged file aside and says what berth then forgets', async () => {
    await writeFile(join(dir, 'doc.json'), '')
    const alone = join(dir, 'doc.json')
    const error = (await readStateFile(localFiles, alone, KIND).catch((e: unknown) => e)) as StateDamagedError
    expect(error.problem).toBe('the file is empty')
    expect(error.fix).toMatch(new RegExp(`^berth kept no good copy of it\\. Repair it by hand, or move it aside \\(berth then forgets the items\\): mv ${alone} ${alone}\\.damaged-\\d{8}T\\d{6}Z$`))
    // A last good copy that is itself damaged is no good copy.
    await writeFile(lastGoodPath(alone), '{')
    expect(((await readStateFile(localFiles, alone, KIND).catch((e: unknown) => e)) as StateDamagedError).fix).toMatch(/^berth kept no good copy/)
  })

  it('never overwrites a file damaged since it was read: the run stops (exit 1) and the file stays as it is', async () => {
    await writeStateFile(localFiles, path, KIND, good)
    await writeFile(path, '{"version": 1, "it')
    const error = await writeStateFile(localFiles, path, KIND, good).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateDamagedError)
    expect(error).toMatchObject({ code: 'STATE_DAMAGED_DURING_RUN', exitCode: ExitCode.unexpected })
    expect((error as Error).message).toBe(`${path} was damaged by something else during this run (not valid JSON: it ends before the JSON does (cut short)); berth did not overwrite it, so it does not record what this run did`)
    expect(await readFile(path, 'utf8')).toBe('{"version": 1, "it')
    expect(JSON.parse(await readFile(lastGoodPath(path), 'utf8'))).toEqual(good)
  })

  it('refuses to write what it could not read back, writing nothing', async () => {
    await expect(writeStateFile(localFiles, path, KIND, { version: 1, items: [{ name: 'web', port: 1.5 }] })).rejects.toThrow(/would write an invalid .*items\[0\]\.port/)
    expect(await readStateFile(localFiles, path, KIND)).toBeUndefined()
  })
})

describe('shellWord', () => {
  it('quotes only what needs quoting', () => {
    expect(shellWord('/srv/shop/.berth/staging/releases.json')).toBe('/srv/shop/.berth/staging/releases.json')
    expect(shellWord("/srv/my shop/it's")).toBe(`'/srv/my shop/it'\\''s'`)
  })
})
