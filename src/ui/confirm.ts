import { UsageError } from '../errors.js'

/**
 * Asks before a destructive step. Without a terminal nobody can answer, so berth refuses rather than
 * assume yes (SSM, cron, CI must say --yes explicitly). The prompt goes to stderr: stdout is for results.
 */
export async function confirm(question: string, opts: { yes: boolean; isTTY: boolean }): Promise<boolean> {
  if (opts.yes) return true
  if (!opts.isTTY) {
    throw new UsageError(
      `This environment requires confirmation (${question}) and there is no terminal to ask on; re-run with --yes.`,
      undefined,
      'CONFIRMATION_REQUIRED',
    )
  }
  // Loaded when there is a question to ask: most runs ask none.
  const { createInterface } = await import('node:readline/promises')
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await prompt.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    prompt.close()
  }
}
