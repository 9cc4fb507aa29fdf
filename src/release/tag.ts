/** SPEC §3: a release tag is the UTC time YYYYMMDD-HHMMSS, with -2, -3 … when that one is taken. */
export function formatTag(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
}

export function nextTag(date: Date, taken: ReadonlySet<string>): string {
  const base = formatTag(date)
  if (!taken.has(base)) return base
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`
    if (!taken.has(candidate)) return candidate
  }
}

export const TAG_PATTERN = /^\d{8}-\d{6}(-\d+)?$/
