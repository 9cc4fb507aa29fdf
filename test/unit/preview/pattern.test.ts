import { describe, expect, it } from 'vitest'

import { ENVIRONMENT_KEY_PATTERN } from '../../../src/config/schema.js'
import { fillStar, isPattern, matchPattern, patternsMatching } from '../../../src/preview/pattern.js'

describe('environment patterns (SPEC §11)', () => {
  it.each([
    ['preview-*', 'preview-42', '42'],
    ['preview-*', 'preview-pr-7', 'pr-7'],
    ['pr-*-web', 'pr-12-web', '12'],
    ['*-preview', 'feature-preview', 'feature'],
    ['*', 'anything', 'anything'],
  ])('%s matches %s, the * standing for %s', (pattern, name, part) => {
    expect(matchPattern(pattern, name)).toBe(part)
  })

  it.each([
    ['preview-*', 'preview-', 'nothing stands for the *'],
    ['preview-*', 'staging', 'another prefix'],
    ['preview-*', 'preview-A1', 'an upper-case letter'],
    ['preview-*', 'preview-4_2', 'an underscore'],
    ['*-preview', '1-preview', 'the name would start with a digit'],
    ['preview-*', `preview-${'x'.repeat(24)}`, 'longer than 31 characters'],
    ['pr-*-web', 'pr-web', 'the prefix and suffix overlap'],
  ])('%s does not match %s (%s)', (pattern, name) => {
    expect(matchPattern(pattern, name)).toBeUndefined()
  })

  it('tells patterns from names, and lists every pattern a name matches', () => {
    expect(isPattern('preview-*')).toBe(true)
    expect(isPattern('preview-42')).toBe(false)
    expect(patternsMatching(['preview-*', 'pre*', 'staging-*'], 'preview-42')).toEqual(['preview-*', 'pre*'])
    expect(patternsMatching(['staging-*'], 'preview-42')).toEqual([])
  })

  it("replaces the * of a pattern's env_file with the preview's part", () => {
    expect(fillStar('environments/preview-*.env', '42')).toBe('environments/preview-42.env')
  })

  it.each(['preview-*', 'pr-*-web', '*', '*-x', 'staging', 'a'])('accepts %s as an environment key', (key) => {
    expect(ENVIRONMENT_KEY_PATTERN.test(key)).toBe(true)
  })

  it.each(['preview-**', 'a*b*', '1-*', '-*', 'Preview-*', 'preview_*', '', `p${'x'.repeat(30)}*`])('refuses %j as an environment key', (key) => {
    expect(ENVIRONMENT_KEY_PATTERN.test(key)).toBe(false)
  })
})
