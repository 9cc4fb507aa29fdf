import type { Hook, HookName, Hooks } from './types.js'
import { HOOK_NAMES } from './rules.js'

/** The default of SPEC §11. */
export const DEFAULT_HOOK_TIMEOUT_MS = 5 * 60_000

type RawHook = string | { run: string; timeout?: number | undefined; pass?: string[] | undefined }
type RawHooks = Partial<Record<HookName, RawHook | null | undefined>>

/**
 * An environment's hooks: the top level's, each replaced by the environment's own of the same name (key by
 * key, not merged inside one hook); an environment's `null` turns the top level's off.
 */
export function resolveHooks(topLevel: RawHooks | undefined, own: RawHooks | undefined): Hooks {
  const hooks: Hooks = {}
  for (const name of HOOK_NAMES) {
    const raw = own !== undefined && name in own && own[name] !== undefined ? own[name] : topLevel?.[name]
    if (raw === null || raw === undefined) continue
    hooks[name] = hookOf(name, raw)
  }
  return hooks
}

function hookOf(name: HookName, raw: RawHook): Hook {
  if (typeof raw === 'string') return { name, run: raw, timeoutMs: DEFAULT_HOOK_TIMEOUT_MS, pass: [] }
  return { name, run: raw.run, timeoutMs: raw.timeout ?? DEFAULT_HOOK_TIMEOUT_MS, pass: raw.pass ?? [] }
}
