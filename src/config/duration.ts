/**
 * A duration in deploy.yml: "90s", "2m", "1m30s", "500ms", "1h", "3d" (a preview's ttl), or a plain number of seconds ("90", 90, 1.5).
 * Units come largest first, each at most once, so "30s1m" is refused rather than guessed at.
 */
export const DURATION_PATTERN = /^(?:(\d+(?:\.\d+)?)|(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?)$/

const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1_000, 1] as const

/** Milliseconds, or undefined when value is not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined
  if (typeof value !== 'string') return undefined
  const match = DURATION_PATTERN.exec(value)
  if (!match) return undefined
  const [, seconds, ...units] = match
  if (seconds !== undefined) return Math.round(Number(seconds) * 1000)
  return units.reduce((total, amount, i) => total + Number(amount ?? 0) * UNIT_MS[i]!, 0)
}
