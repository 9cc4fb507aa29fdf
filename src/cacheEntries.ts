import { readFileSync } from 'node:fs'

import { writeAtomically } from './cacheDir.js'
import { byCodePoint } from './order.js'

/**
 * A cache file of keyed entries, each stamped with when it was checked: `{ "entries": { key: { checkedAt, … } } }`
 * (Compose's version per engine and binary, target/composeCache.ts; what an engine says of itself per socket,
 * docker/identity.ts). A file that does not read is no entries.
 */
export type Stamped<T> = T & { checkedAt: string }

export function readEntries<T>(file: string): Record<string, Stamped<T>> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { entries?: Record<string, Stamped<T>> }
    return parsed.entries && typeof parsed.entries === 'object' ? parsed.entries : {}
  } catch {
    return {}
  }
}

/**
 * Sets one entry (`make` gets the one there, if any), keeps the newest `max`, and writes the file whole
 * (writeAtomically). A failure to write is ignored: a cache is an optimisation only, the next command asks again.
 */
export function writeEntry<T>(file: string, key: string, make: (old: Stamped<T> | undefined) => T, max: number, entries = readEntries<T>(file)): void {
  try {
    const all: Record<string, Stamped<T>> = { ...entries, [key]: { ...make(entries[key]), checkedAt: new Date().toISOString() } }
    const kept = Object.entries(all)
      .sort(([, a], [, b]) => byCodePoint(b.checkedAt, a.checkedAt))
      .slice(0, max)
    writeAtomically(file, `${JSON.stringify({ entries: Object.fromEntries(kept) }, null, 2)}\n`)
  } catch {
    // A read-only or missing home: no cache.
  }
}
