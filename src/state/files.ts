import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'

import { describeIssue, formatPath, schemaIssues } from '../config/rules.js'
import { StateDamagedError } from '../errors.js'
import type { Files } from '../target/files.js'
import { lastGoodPath } from './paths.js'

/** A JSON state file berth reads back (release records, colour state). */
export interface StateFile<T> {
  /** zod's mini API: its schemas are built without a method object each, a few ms less at every start than the full API's (deploy.yml's). */
  schema: z.ZodMiniType<T>
  /** What berth no longer knows once the file is moved aside: said in the hint when no good copy is kept. */
  forgets: string
}

/** A schema's own message for a wrong value; a missing one still reads "is required". */
export function unlessMissing(message: string): { error: (issue: { input?: unknown }) => string | undefined } {
  return { error: (issue) => (issue.input === undefined ? undefined : message) }
}

export type ParsedState<T> = { ok: true; value: T } | { ok: false; problem: string }

/**
 * Parses and validates a state file's text. The problem says what is wrong where (`releases[0].tag:
 * expected a string, got a number`), never what the file holds: JSON.parse's own message quotes the
 * content, and state files hold secrets.
 */
export function parseState<T>(text: string, schema: z.ZodMiniType<T>): ParsedState<T> {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return { ok: false, problem: jsonProblem(text, error) }
  }
  // zod's mini API sets no locale of its own: English, as the full API would have it (an issue the schema and describeIssue leave unphrased).
  if (!z.config().localeError) z.config(en())
  // jitless: zod would otherwise generate and compile a parser for each object schema on its first parse, which
  // pays off over many parses; berth parses a state file once or twice a run.
  const result = z.safeParse(schema, data, { error: describeIssue, jitless: true })
  if (result.success) return { ok: true, value: result.data }
  const issues = schemaIssues(result.error)
  const shown = issues.slice(0, 3).map(({ path, message }) => `${path.length > 0 ? formatPath(path) : 'top level'}: ${message}`)
  return { ok: false, problem: `${shown.join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}` }
}

function jsonProblem(text: string, error: unknown): string {
  if (text.trim() === '') return 'the file is empty'
  const message = error instanceof Error ? error.message : ''
  if (/end of JSON input|Unterminated/i.test(message)) return 'not valid JSON: it ends before the JSON does (cut short)'
  const at = /at position (\d+)/.exec(message)
  if (!at) return 'not valid JSON'
  const position = Number(at[1])
  if (position >= text.trimEnd().length) return 'not valid JSON: it ends before the JSON does (cut short)'
  const before = text.slice(0, position).split('\n')
  return `not valid JSON at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`
}


/** Reads and validates a state file; undefined when there is none. A damaged one throws StateDamagedError. */
export async function readStateFile<T>(files: Files, path: string, kind: StateFile<T>): Promise<T | undefined> {
  const text = await files.read(path)
  if (text === undefined) return undefined
  const parsed = parseState(text, kind.schema)
  if (parsed.ok) return parsed.value
  throw new StateDamagedError(path, parsed.problem, await damageFix(files, path, kind))
}

/**
 * Writes a state file atomically, never over a damaged one (something else damaged it since it was read:
 * the run stops rather than lose what the file held), and keeps what it wrote as `<file>.last-good` too, so
 * that when something else damages the file later, restoring it is one `cp`.
 */
export async function writeStateFile<T>(files: Files, path: string, kind: StateFile<T>, value: T): Promise<void> {
  const current = await files.read(path)
  const parsed = current === undefined ? undefined : parseState(current, kind.schema)
  if (parsed && !parsed.ok) throw new StateDamagedError(path, parsed.problem, await damageFix(files, path, kind), true)
  const data = `${JSON.stringify(value, null, 2)}\n`
  // A last good copy that does not read back would make the hint a trap.
  const own = parseState(data, kind.schema)
  if (!own.ok) throw new Error(`berth would write an invalid ${path} (${own.problem}); nothing was written`)
  await files.writeAtomic(path, data)
  await files.writeAtomic(lastGoodPath(path), data)
}

/** The one command that gets berth going again: restore the last good copy, or move the damaged file aside. */
export async function damageFix<T>(files: Files, path: string, kind: StateFile<T>): Promise<string> {
  const copy = lastGoodPath(path)
  const text = await files.read(copy)
  if (text !== undefined && parseState(text, kind.schema).ok) return `Restore the last good copy berth kept: cp ${shellWord(copy)} ${shellWord(path)}`
  const aside = `${path}.damaged-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`
  return `berth kept no good copy of it. Repair it by hand, or move it aside (berth then ${kind.forgets}): mv ${shellWord(path)} ${shellWord(aside)}`
}

/** A path as one shell word, quoted only when it needs to be. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
