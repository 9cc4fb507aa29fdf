/** SPEC §8: env-file keys whose values are secrets. */
export const SECRET_KEY_PATTERN = /SECRET|PASSWORD|PASS|TOKEN|KEY|CREDENTIAL|PRIVATE/i

const MASK = '****'
const secrets = new Set<string>()

/**
 * Remembers values that must never be printed. Very short values are masked too: a leak is worse than noise.
 * A value spanning lines (a PEM key) is also remembered line by line, trimmed: output is masked one line at a
 * time (container logs, compose's own output, `compose config` folding the value over several lines), and a
 * line never contains the whole value.
 */
export function registerSecrets(values: Iterable<string>): void {
  for (const value of values) {
    if (value.length === 0) continue
    secrets.add(value)
    if (!/[\r\n]/.test(value)) continue
    for (const line of value.split(/\r?\n|\r/)) if (line.trim() !== '') secrets.add(line.trim())
  }
}

export function secretValuesOf(env: Record<string, string>, extraKeys: readonly string[] = []): string[] {
  return Object.entries(env)
    .filter(([key, value]) => value.length > 0 && (SECRET_KEY_PATTERN.test(key) || extraKeys.includes(key)))
    .map(([, value]) => value)
}

/** Replaces every registered secret value in text with ****, longest first so overlapping values mask whole. */
export function mask(text: string): string {
  if (secrets.size === 0 || text.length === 0) return text
  let out = text
  for (const value of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(value)) out = out.split(value).join(MASK)
  }
  return out
}

/** For tests only. */
export function clearSecrets(): void {
  secrets.clear()
}
