const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/**
 * SPEC §7: SIGINT, SIGTERM and SIGHUP (a dropped SSH/SSM session) must not leave a lock held or a release
 * half-recorded. While registered, a signal runs `cleanup` once and then exits 1, unless `intercept` takes it
 * (returns true: the run ends a phase of its own, a deploy's watch, and goes on). Returns the unregister
 * function.
 */
export function onInterrupt(cleanup: (signal: NodeJS.Signals) => Promise<void>, intercept: (signal: NodeJS.Signals) => boolean = () => false): () => void {
  let handling = false
  const ignoreBrokenPipe = () => {}
  const handler = (signal: NodeJS.Signals) => {
    if (handling) return
    // After a hang-up the terminal is gone: writing to it must not crash the cleanup.
    process.stderr.on('error', ignoreBrokenPipe)
    process.stdout.on('error', ignoreBrokenPipe)
    if (intercept(signal)) return
    handling = true
    cleanup(signal)
      .catch(() => {})
      .finally(() => process.exit(1))
  }
  for (const s of SIGNALS) process.on(s, handler)
  return () => {
    for (const s of SIGNALS) process.off(s, handler)
  }
}
