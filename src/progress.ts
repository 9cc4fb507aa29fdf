/**
 * How services describe progress without knowing how it is shown: a step has a title and a body that may
 * report short updates. The UI layer (src/ui) renders steps with listr2 on a TTY or as plain timestamped
 * lines elsewhere; tests use a recording reporter.
 */
export interface Reporter {
  /** Runs one step; its title is shown while it runs and marked done or failed when it ends. */
  step<T>(title: string, body: (update: (message: string) => void) => Promise<T>): Promise<T>
  info(message: string): void
  warn(message: string): void
  /** Multi-line material (log excerpts) shown as is, after masking. */
  block(title: string, lines: readonly string[]): void
}

/** A reporter that prints nothing: for --json runs' internal steps and for tests that do not look. */
export const silentReporter: Reporter = {
  step: (_title, body) => body(() => {}),
  info: () => {},
  warn: () => {},
  block: () => {},
}
