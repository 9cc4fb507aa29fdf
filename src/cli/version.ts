/** Set by the build (esbuild's define, scripts/buildInfo.mjs): the short commit, '' when not built from git. */
declare const BERTH_BUILD_COMMIT: string | undefined

export const BUILD_COMMIT = typeof BERTH_BUILD_COMMIT === 'string' && BERTH_BUILD_COMMIT !== '' ? BERTH_BUILD_COMMIT : undefined

/**
 * `berth --version`: oclif's line (`berth/0.1.0 linux-x64 node-v20.20.2`) and the commit the build came from,
 * which the build captures (scripts/buildInfo.mjs); undefined when it was not built from a git checkout.
 * Appended, not inserted: oclif's versionDetails splits the first three words.
 */
export function versionLine(userAgent: string, commit: string | undefined): string {
  return `${userAgent} ${commit === undefined ? '(not built from a git checkout)' : `(commit ${commit})`}`
}
