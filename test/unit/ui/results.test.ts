import { describe, expect, it } from 'vitest'

import { formatDeployed, formatDown, formatInit, formatLock, formatMaintenance, formatRolledBack, formatUnlock } from '../../../src/ui/results.js'

describe('result summaries', () => {
  it('end a deploy or rollback with the command that undoes it, when there is one', () => {
    const deployed = { environment: 'production', project: 'shop-production', tag: 'B', previous: 'A', built: [], restartAdded: [], removedImages: [], durationMs: 4210 }
    expect(formatDeployed(deployed)).toBe('production is running release B (4.2s)\nto undo: berth rollback production --to A')
    expect(formatDeployed({ ...deployed, previous: 'B' })).toBe('production is running release B (4.2s)')
    expect(formatRolledBack({ environment: 'staging', project: 'shop-staging', tag: 'A', from: 'B', imagesOnly: false, durationMs: 1000 })).toBe('staging is running release A (1.0s)\nto undo: berth rollback staging --to B')
  })

  it('say what down removed and how to bring it back', () => {
    expect(formatDown({ environment: 'preview', project: 'shop-preview', release: 'A', containers: ['a'], volumes: true, durationMs: 500 })).toBe(
      'preview (shop-preview) is down: 1 container removed, volumes deleted (0.5s)\nto bring it back: berth rollback preview --to A',
    )
    expect(formatDown({ environment: 'preview', project: 'shop-preview', containers: [], volumes: false, durationMs: 500 })).toBe('preview (shop-preview) is down: 0 containers removed, volumes kept (0.5s)')
  })

  it('say what maintenance answers, whether anything changed, and how to undo it', () => {
    const on = { environment: 'production', maintenance: 'on' as const, changed: true, since: 'T', message: 'back soon', routes: ['r1'], rewrittenRoutes: [], durationMs: 10 }
    expect(formatMaintenance(on)).toBe('production is in maintenance since T: its 1 route answers 503 with "back soon"\nto undo: berth maintenance production off')
    const { message: _message, ...withoutMessage } = on
    expect(formatMaintenance({ ...withoutMessage, routes: ['r1', 'r2'], rewrittenRoutes: ['r1'] })).toBe(
      'production is in maintenance since T: its 2 routes (1 rewritten first: one reload of the edge) answer 503 with the default page\nto undo: berth maintenance production off',
    )
    expect(formatMaintenance({ ...on, changed: false })).toContain('answers 503 with "back soon" (as before; nothing was changed)')
    const off = { environment: 'production', maintenance: 'off' as const, changed: true, routes: [], rewrittenRoutes: [], durationMs: 10 }
    expect(formatMaintenance(off)).toBe('production serves again: its maintenance page is off\nto undo: berth maintenance production on')
    expect(formatMaintenance({ ...off, changed: false })).toBe('production was not in maintenance; nothing was changed')
  })

  it('tell a lock held, a stale one and none apart', () => {
    expect(formatLock({ environment: 'staging', locked: false })).toBe('staging is not locked')
    const holder = { pid: 1, host: 'h', by: 'a@h', command: 'berth deploy staging', startedAt: 't', stale: true, description: 'a@h (pid 1)' }
    expect(formatLock({ environment: 'staging', locked: false, holder })).toBe('staging is not locked (a stale lock is left, taken over by the next run) by a@h (pid 1)')
    expect(formatUnlock({ environment: 'staging', locked: false, released: 'a@h' })).toBe('staging unlocked (was held by a@h)')
    expect(formatUnlock({ environment: 'staging', locked: false })).toBe('staging was not locked')
  })

  it('list what init wrote and what to do next', () => {
    const text = formatInit({ app: 'shop', written: ['/p/deploy.yml'], gitignore: { file: '/p/.gitignore', added: ['.berth/'] }, compose: { file: '/p/compose.yaml', exists: false }, schema: './node_modules/berth/schema/deploy.schema.json' })
    expect(text.split('\n')).toEqual([
      'wrote /p/deploy.yml',
      'added to /p/.gitignore: .berth/',
      'note: /p/compose.yaml does not exist yet; write it, or name your compose files under compose: in deploy.yml',
      'next: cp environments/staging.env.example environments/staging.env, fill it in, then: berth deploy staging',
    ])
  })
})
