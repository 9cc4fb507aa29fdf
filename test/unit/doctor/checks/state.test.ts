import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { readStateFindings, stateCheck } from '../../../../src/doctor/checks/state.js'
import { appendAudit, auditPath } from '../../../../src/state/audit.js'
import { releasesPath } from '../../../../src/state/releases.js'
import { localState } from '../../../../src/target/local.js'

describe('stateCheck', () => {
  const damaged = { file: '/s/.berth/staging/releases.json', problem: 'releases[0].tag: expected a string, got number', fix: 'Restore the last good copy berth kept: cp /s/.berth/staging/releases.json.last-good /s/.berth/staging/releases.json' }
  const audit = { file: '/s/.berth/production/audit.log', lines: [{ line: 3, problem: 'not valid JSON' }, { line: 9, problem: 'not valid JSON' }] }

  it('is ok when every state file reads', () => {
    expect(stateCheck([{ env: 'staging', damaged: [] }, { env: 'production', damaged: [] }])).toEqual({ id: 'state', status: 'ok', summary: 'the state files of 2 environments read as they should', details: [] })
  })

  it('fails on damaged records, naming the file, the problem and the fix', () => {
    const check = stateCheck([{ env: 'staging', damaged: [damaged] }, { env: 'production', damaged: [], audit }])
    expect(check.status).toBe('fail')
    expect(check.summary).toBe('1 damaged state file (staging): deploy, rollback and down of that environment are refused')
    expect(check.details).toEqual([
      'staging: /s/.berth/staging/releases.json: releases[0].tag: expected a string, got number',
      'production: /s/.berth/production/audit.log: line 3: not valid JSON; line 9: not valid JSON',
    ])
    expect(check.hint).toContain(`staging: ${damaged.fix}`)
    expect(check.hint).toContain("sed -i '3d;9d' /s/.berth/production/audit.log")
  })

  it('only warns about damaged audit lines: berth appends after them and relies on nothing in the log', () => {
    const check = stateCheck([{ env: 'production', damaged: [], audit }])
    expect(check).toMatchObject({ status: 'warn', summary: '1 audit log with damaged lines' })
    expect(check.hint).toBe("berth appends after damaged lines and never reads the log to decide anything. To drop them: sed -i '3d;9d' /s/.berth/production/audit.log")
  })
})

describe('readStateFindings', () => {
  it("finds each environment's damaged state files and audit lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-state-'))
    const stateDir = join(dir, '.berth')
    try {
      await appendAudit(localState(stateDir), 'staging', { action: 'deploy', by: 'a@b', at: '2026-11-22T09:30:00.000Z', result: 'ok' })
      await writeFile(releasesPath(stateDir, 'staging'), '[{"tag": 5}]')
      await appendAudit(localState(stateDir), 'production', { action: 'deploy', by: 'a@b', at: '2026-11-22T09:30:00.000Z', result: 'ok' })
      await appendFile(auditPath(stateDir, 'production'), 'not json\n')
      const findings = await readStateFindings(localState(stateDir), ['production', 'staging'])
      expect(findings.map((f) => [f.env, f.damaged.map((d) => d.file), f.audit?.lines.map((l) => l.line)])).toEqual([
        ['production', [], [2]],
        ['staging', [releasesPath(stateDir, 'staging')], undefined],
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
