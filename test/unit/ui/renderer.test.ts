import { describe, expect, it } from 'vitest'
import { chooseRenderer, useColor } from '../../../src/ui/renderer.js'

describe('chooseRenderer', () => {
  it.each([
    { name: 'interactive terminal', isTTY: true, env: { TERM: 'xterm-256color' }, json: false, kind: 'listr' },
    { name: 'no TTY (ssh host cmd, SSM)', isTTY: false, env: {}, json: false, kind: 'plain' },
    { name: 'CI', isTTY: true, env: { CI: 'true' }, json: false, kind: 'plain' },
    { name: 'TERM=dumb', isTTY: true, env: { TERM: 'dumb' }, json: false, kind: 'plain' },
    { name: 'NO_COLOR', isTTY: true, env: { NO_COLOR: '1' }, json: false, kind: 'plain' },
    { name: 'empty NO_COLOR is not set', isTTY: true, env: { NO_COLOR: '' }, json: false, kind: 'listr' },
    { name: 'empty CI is not set', isTTY: true, env: { CI: '' }, json: false, kind: 'listr' },
    { name: '--json on a terminal', isTTY: true, env: {}, json: true, kind: 'plain' },
    { name: '--json without TTY', isTTY: false, env: {}, json: true, kind: 'plain' },
  ])('$name → $kind', ({ isTTY, env, json, kind }) => {
    expect(chooseRenderer({ isTTY, env, json })).toBe(kind)
  })
})

describe('useColor', () => {
  it.each([
    { isTTY: true, env: {}, color: true },
    { isTTY: false, env: {}, color: false },
    { isTTY: true, env: { NO_COLOR: 'yes' }, color: false },
    { isTTY: true, env: { TERM: 'dumb' }, color: false },
  ])('isTTY=$isTTY env=$env → $color', ({ isTTY, env, color }) => {
    expect(useColor({ isTTY, env, json: false })).toBe(color)
  })
})
