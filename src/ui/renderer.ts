/**
 * Which progress renderer a run uses, decided once from options and environment (like lint-staged's
 * getRenderer) so the choice is unit-tested apart from listr2. `isTTY` is that of the stream progress goes
 * to (stderr); stdout is reserved for results.
 */
export interface RendererContext {
  isTTY: boolean
  env: Record<string, string | undefined>
  json: boolean
}

export type RendererKind = 'listr' | 'plain'

/** no-color.org: NO_COLOR counts when present and not empty; the same reading is used for CI. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== ''
}

/** Whether escape codes (colour, cursor movement) may be written: SPEC §8 forbids them off a TTY. */
export function useColor(o: RendererContext): boolean {
  return o.isTTY && !isSet(o.env.NO_COLOR) && o.env.TERM !== 'dumb'
}

/**
 * listr2's live view only where a person watches a capable terminal. CI logs and --json runs (read by
 * scripts, their stderr usually captured) get plain timestamped lines instead.
 */
export function chooseRenderer(o: RendererContext): RendererKind {
  if (o.json || isSet(o.env.CI) || !useColor(o)) return 'plain'
  return 'listr'
}
