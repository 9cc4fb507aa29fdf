import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { appendAudit, auditDamage, type AuditEntry, auditPath } from '../../../src/state/audit.js'
import { localState } from '../../../src/target/local.js'

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({ action: 'deploy', by: 'alice@host', at: '2026-11-22T09:30:00.000Z', tag: '20261122-093000', result: 'ok', durationMs: 1200, ...over })

let stateDir: string
let path: string
beforeEach(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'berth-audit-')), '.berth')
  path = auditPath(stateDir, 'staging')
})
afterEach(async () => {
  await rm(join(stateDir, '..'), { recursive: true, force: true })
})

const lines = async () => (await readFile(path, 'utf8')).split('\n')

describe('appendAudit', () => {
  it('appends one private JSON line per action', async () => {
    await appendAudit(localState(stateDir), 'staging', entry())
    await appendAudit(localState(stateDir), 'staging', entry({ action: 'rollback', result: 'ROLLED_BACK' }))
    expect((await lines()).map((l) => (l ? JSON.parse(l).action : l))).toEqual(['deploy', 'rollback', ''])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await auditDamage(localState(stateDir), 'staging')).toBeUndefined()
  })

  it('after a last line cut short (a full disk), starts the new entry on a line of its own and leaves the cut line as it was', async () => {
    await appendAudit(localState(stateDir), 'staging', entry())
    const cut = JSON.stringify(entry({ tag: '20261122-100000' })).slice(0, 40)
    await writeFile(path, `${await readFile(path, 'utf8')}${cut}`)
    await appendAudit(localState(stateDir), 'staging', entry({ action: 'down' }))
    const [first, second, third, end] = await lines()
    expect(JSON.parse(first as string).action).toBe('deploy')
    expect(second).toBe(cut)
    expect(JSON.parse(third as string).action).toBe('down')
    expect(end).toBe('')
  })

  it('appends to an empty log as to a new one', async () => {
    await appendAudit(localState(stateDir), 'staging', entry())
    await writeFile(path, '')
    await appendAudit(localState(stateDir), 'staging', entry())
    expect(await lines()).toHaveLength(2)
  })
})

describe('auditDamage', () => {
  it('finds nothing in no log or an empty one', async () => {
    expect(await auditDamage(localState(stateDir), 'staging')).toBeUndefined()
    await appendAudit(localState(stateDir), 'staging', entry())
    await writeFile(path, '')
    expect(await auditDamage(localState(stateDir), 'staging')).toBeUndefined()
  })

  it('names each line that is cut short or of the wrong shape, by number, without quoting it', async () => {
    await appendAudit(localState(stateDir), 'staging', entry())
    const text = await readFile(path, 'utf8')
    await writeFile(path, `${text}{"action": "deploy", "by": "bob@host", "message": "SECRET_TOKEN=hunter2"\n${text}{"action": "explode", "by": 5, "at": "x", "result": "ok"}\n${text.slice(0, 30)}`)
    const damage = await auditDamage(localState(stateDir), 'staging')
    expect(damage).toEqual({
      file: path,
      lines: [
        { line: 2, problem: 'not valid JSON: it ends before the JSON does (cut short)' },
        { line: 4, problem: 'action: expected deploy, rollback, down, lock, unlock or maintenance; by: expected a string, got number' },
        { line: 5, problem: 'not valid JSON: it ends before the JSON does (cut short)' },
      ],
    })
    expect(JSON.stringify(damage)).not.toContain('hunter2')
  })
})
