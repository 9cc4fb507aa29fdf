import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { StateDamagedError } from '../../../src/errors.js'
import { coloursPath, type ColourState, readColours, writeColours } from '../../../src/state/colours.js'
import { localState } from '../../../src/target/local.js'

describe('colour state files', () => {
  let stateDir: string
  let path: string
  const state: ColourState = {
    live: 'green',
    blue: { tag: '20261122-093000', configFile: '20261122-093000.lx0abc.compose.yaml' },
    green: { tag: '20261122-100000', configFile: '20261122-100000.lx0abd.compose.yaml' },
    upstreams: { blue: { 'web:8080': 31234 }, green: { 'web:8080': 35678 } },
  }
  beforeEach(async () => {
    stateDir = join(await mkdtemp(join(tmpdir(), 'berth-colours-')), '.berth')
    path = coloursPath(stateDir, 'production')
  })
  afterEach(async () => {
    await rm(join(stateDir, '..'), { recursive: true, force: true })
  })

  it('reads no colours before the first deploy, and what was written after', async () => {
    expect(await readColours(localState(stateDir), 'production')).toEqual({ upstreams: { blue: {}, green: {} } })
    await writeColours(localState(stateDir), 'production', state)
    expect(await readColours(localState(stateDir), 'production')).toEqual(state)
  })

  it.each([
    ['cut short', () => JSON.stringify(state, null, 2).slice(0, 60), 'not valid JSON: it ends before the JSON does (cut short)'],
    ['empty', () => '', 'the file is empty'],
    ['of the wrong shape', () => JSON.stringify({ ...state, live: 'red', upstreams: { blue: { 'web:8080': '31234' } } }), 'live: expected blue or green; upstreams.blue.web:8080: expected a port number from 1 to 65535; upstreams.green: is required'],
  ])('refuses colour state %s, and never overwrites it', async (_name, content, problem) => {
    await writeColours(localState(stateDir), 'production', state)
    await writeFile(path, content())
    const error = await readColours(localState(stateDir), 'production').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateDamagedError)
    expect(error).toMatchObject({ code: 'STATE_DAMAGED', exitCode: 2, file: path, problem, fix: `Restore the last good copy berth kept: cp ${path}.last-good ${path}` })
    await expect(writeColours(localState(stateDir), 'production', state)).rejects.toMatchObject({ code: 'STATE_DAMAGED_DURING_RUN' })
    expect(await readFile(path, 'utf8')).toBe(content())
  })

  it('without a good copy, says what moving it aside means for the live colour', async () => {
    await writeColours(localState(stateDir), 'production', state)
    await rm(`${path}.last-good`)
    await writeFile(path, '{')
    const error = (await readColours(localState(stateDir), 'production').catch((e: unknown) => e)) as StateDamagedError
    expect(error.fix).toContain(`mv ${path} ${path}.damaged-`)
    expect(error.fix).toContain('the next deploy brings the release up in blue')
  })
})
