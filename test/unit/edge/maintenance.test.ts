import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { EdgeUnavailableError } from '../../../src/edge/errors.js'
import { clearLive, readLive, setLive } from '../../../src/edge/live.js'
import {
  DEFAULT_MESSAGE,
  escapeHtml,
  maintenancePage,
  MESSAGE_MAX,
  messageProblem,
  pageFacts,
  readMaintenance,
  removeMaintenance,
  writeMaintenance,
} from '../../../src/edge/maintenance.js'
import { localFiles } from '../../../src/target/files.js'

const SINCE = '2026-11-22T10:00:00.000Z'

describe('the maintenance page', () => {
  it('is a small HTML page with the message escaped, newlines as line breaks, and its facts for status', () => {
    const page = maintenancePage({ since: SINCE, message: 'Back at 14:00 <b>UTC</b> & "soon"\nsorry' })
    expect(page).toMatch(/^<!doctype html>\n/)
    expect(page).toContain('<title>Down for maintenance</title>')
    expect(page).toContain('<p>Back at 14:00 &#60;b&#62;UTC&#60;/b&#62; &#38; &#34;soon&#34;<br>\nsorry</p>')
    expect(page).not.toContain('<b>')
    expect(pageFacts(page)).toEqual({ since: SINCE, message: 'Back at 14:00 <b>UTC</b> & "soon"\nsorry' })
  })

  it('shows the default text without a message', () => {
    const page = maintenancePage({ since: SINCE })
    expect(page).toContain(`<p>${DEFAULT_MESSAGE}</p>`)
    expect(pageFacts(page)).toEqual({ since: SINCE })
  })

  it('keeps a message that tries to end the facts comment, or to open markup, inside it', () => {
    const message = '--> <script>alert(1)</script> <!-- {{ .Req }}'
    const page = maintenancePage({ since: SINCE, message })
    // One comment, closed by berth; nothing of the message is markup.
    expect(page.match(/-->/g)).toHaveLength(1)
    expect(page).not.toMatch(/<script>/)
    expect(page).toContain('&#60;script&#62;')
    expect(pageFacts(page)).toEqual({ since: SINCE, message })
  })

  it('escapes the five characters HTML gives meaning to', () => {
    expect(escapeHtml(`a&b<c>d"e'f`)).toBe('a&#38;b&#60;c&#62;d&#34;e&#39;f')
  })

  it('reads no facts from a page berth did not write', () => {
    expect(pageFacts('<h1>closed</h1>')).toBeUndefined()
    expect(pageFacts('<!-- berth maintenance {"since":1} -->')).toBeUndefined()
    expect(pageFacts('<!-- berth maintenance {not json} -->')).toBeUndefined()
  })

  it('refuses an empty or too long message, or one with control characters', () => {
    expect(messageProblem('back soon')).toBeUndefined()
    expect(messageProblem('line one\n\tline two')).toBeUndefined()
    expect(messageProblem('  ')).toBe('--message is empty')
    expect(messageProblem('x'.repeat(MESSAGE_MAX + 1))).toBe(`--message is ${MESSAGE_MAX + 1} characters long; a page takes at most ${MESSAGE_MAX}`)
    expect(messageProblem('bell\u0007')).toMatch(/control characters/)
  })
})

describe('the maintenance page on the host', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-maintenance-'))
  })

  afterEach(() => {
    chmodSync(dir, 0o755)
    rmSync(dir, { recursive: true, force: true })
  })

  const envDir = () => join(dir, 'shop', 'production')

  it('is written whole beside the live marker, readable by the edge, read back, and removed, leaving the marker', async () => {
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    expect(await readMaintenance(localFiles, dir, 'shop', 'production')).toBeUndefined()
    await writeMaintenance(localFiles, dir, 'shop', 'production', maintenancePage({ since: SINCE, message: 'back soon' }))
    expect(readdirSync(envDir()).sort()).toEqual(['blue', 'maintenance.html'])
    expect(statSync(join(envDir(), 'maintenance.html')).mode & 0o777).toBe(0o644)
    expect(await readMaintenance(localFiles, dir, 'shop', 'production')).toEqual({ since: SINCE, message: 'back soon' })
    // The marker berth switches colours with is untouched by the page.
    expect(await readLive(localFiles, dir, 'shop', 'production')).toBe('blue')
    await writeMaintenance(localFiles, dir, 'shop', 'production', maintenancePage({ since: SINCE, message: 'later' }))
    expect(readFileSync(join(envDir(), 'maintenance.html'), 'utf8')).toContain('<p>later</p>')
    expect(await removeMaintenance(localFiles, dir, 'shop', 'production')).toBe(true)
    expect(await removeMaintenance(localFiles, dir, 'shop', 'production')).toBe(false)
    expect(readdirSync(envDir())).toEqual(['blue'])
  })

  it("keeps environments apart, and goes with the environment's live marker when its routes are removed", async () => {
    await setLive(localFiles, dir, 'shop', 'prod', 'blue')
    await setLive(localFiles, dir, 'shop', 'prod-2', 'green')
    await writeMaintenance(localFiles, dir, 'shop', 'prod', maintenancePage({ since: SINCE }))
    expect(await readMaintenance(localFiles, dir, 'shop', 'prod-2')).toBeUndefined()
    await clearLive(localFiles, dir, 'shop', 'prod')
    expect(await readMaintenance(localFiles, dir, 'shop', 'prod')).toBeUndefined()
    expect(readdirSync(join(dir, 'shop'))).toEqual(['prod-2'])
  })

  it('reads a page put there by hand as maintenance since its last change, without a message', async () => {
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    writeFileSync(join(envDir(), 'maintenance.html'), '<h1>closed</h1>')
    utimesSync(join(envDir(), 'maintenance.html'), new Date(SINCE), new Date(SINCE))
    expect(await readMaintenance(localFiles, dir, 'shop', 'production')).toEqual({ since: SINCE })
  })

  it('says what to do when the directory cannot be written', async () => {
    if (process.getuid?.() === 0) return // root writes anywhere: nothing to refuse
    await setLive(localFiles, dir, 'shop', 'production', 'blue')
    chmodSync(envDir(), 0o555)
    try {
      const write = writeMaintenance(localFiles, dir, 'shop', 'production', maintenancePage({ since: SINCE }))
      await expect(write).rejects.toBeInstanceOf(EdgeUnavailableError)
      await expect(writeMaintenance(localFiles, dir, 'shop', 'production', '')).rejects.toThrow(/cannot change the maintenance page under .*EACCES.*/)
    } finally {
      chmodSync(envDir(), 0o755)
    }
  })
})
