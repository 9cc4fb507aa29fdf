import { createRequire } from 'node:module'

/**
 * A built-in module loaded on first use (node:http, node:https): what a command does not send costs it nothing at
 * start. Required, not import()ed: the single executable (src/cli/sea.ts) and the compile-cached start
 * (src/cli/compileCache.ts) run one CommonJS file in which esbuild leaves import() of a built-in module as it is,
 * and the executable has no loader for it. Any absolute path will do for a built-in; the working directory may
 * be gone, Node's own path is not.
 */
export function builtin<T>(name: 'node:http' | 'node:https'): T {
  return createRequire(process.execPath)(name) as T
}
