import { NAME_PATTERN, PATTERN_PART } from '../config/rules.js'

/** SPEC §11: an environment key of deploy.yml with a `*` is a pattern of preview environments (`preview-*`). */
export function isPattern(key: string): boolean {
  return key.includes('*')
}

/**
 * The part of `name` that stands for the pattern's `*` (`42` of preview-42 for preview-*), or undefined when the
 * name does not match: the part is one or more lowercase letters, digits or "-", and the name is a valid name.
 */
export function matchPattern(pattern: string, name: string): string | undefined {
  const star = pattern.indexOf('*')
  if (star < 0) return undefined
  const prefix = pattern.slice(0, star)
  const suffix = pattern.slice(star + 1)
  if (name.length <= prefix.length + suffix.length || !name.startsWith(prefix) || !name.endsWith(suffix)) return undefined
  const part = name.slice(prefix.length, name.length - suffix.length)
  return PATTERN_PART.test(part) && NAME_PATTERN.test(name) ? part : undefined
}

/** The patterns `name` matches, in the order given. */
export function patternsMatching(patterns: readonly string[], name: string): string[] {
  return patterns.filter((pattern) => matchPattern(pattern, name) !== undefined)
}

/** A pattern's own path (its env_file) with the `*` replaced by the preview's part: each preview gets its own file. */
export function fillStar(path: string, part: string): string {
  return path.replace('*', part)
}
