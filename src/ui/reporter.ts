import type { Reporter } from '../progress.js'
import { mask } from '../secrets.js'
import type { RendererKind } from './renderer.js'

/**
 * Renders the steps services report (src/progress.ts). Everything goes to the given stream — stderr by
 * default — and through mask() first; stdout is left to results.
 */
export function createReporter(kind: RendererKind, stream: NodeJS.WritableStream = process.stderr): Reporter {
  return kind === 'listr' ? listrReporter(stream) : plainReporter(stream)
}

/** Second precision is enough for reading a log beside docker's, and keeps lines short. */
export function timestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// CSI and OSC sequences, then any other ESC: docker's own text may carry colour codes (SPEC §8: none off a TTY).
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?/g

function plainReporter(stream: NodeJS.WritableStream): Reporter {
  // Every physical line carries the timestamp so the output stays greppable and sortable with other logs.
  const write = (text: string): void => {
    const stamp = timestamp()
    const lines = mask(text).replace(ESCAPES, '').split('\n')
    stream.write(lines.map((line) => `${stamp} ${line}\n`).join(''))
  }
  // BERTH_TRACE: each step's start and end in ms since berth started, beside the runner's [trace] lines, so the
  // benchmark can show where a deploy's time goes (start-up, preflight, apply, wait, record).
  const phase = (edge: 'start' | 'end', title: string): void => {
    if (process.env.BERTH_TRACE) stream.write(`[phase] ${edge} ${mask(title)} (+${Math.round(performance.now())} ms)\n`)
  }
  return {
    async step(title, body) {
      const started = performance.now()
      phase('start', title)
      write(`[start] ${title}`)
      try {
        const value = await body((message) => write(`        ${title}: ${message}`))
        phase('end', title)
        write(`[ok] ${title} (${secondsSince(started)})`)
        return value
      } catch (error) {
        write(`[failed] ${title} (${secondsSince(started)}): ${messageOf(error)}`)
        throw error
      }
    },
    info: (message) => write(message),
    warn: (message) => write(`[warn] ${message}`),
    block: (title, lines) => write(blockText(title, lines)),
  }
}

function listrReporter(stream: NodeJS.WritableStream): Reporter {
  const print = (text: string): void => {
    stream.write(`${mask(text)}\n`)
  }
  return {
    async step<T>(title: string, body: (update: (message: string) => void) => Promise<T>): Promise<T> {
      // Imported here: commands that show no progress (status, releases, --version) never pay for it.
      const { DefaultRenderer, Listr, ListrLogger, PRESET_TIMER, ProcessOutput } = await import('listr2')
      // listr2 only calls write() on it and reads columns/rows, which a plain writable may lack (it defaults them).
      const out = stream as NodeJS.WriteStream
      const rendererOptions = {
        // The error is rethrown to the command, which prints it once, masked; listr2 would print it raw.
        showErrorMessage: false,
        timer: PRESET_TIMER,
        logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(out, out) }),
      }
      let value!: T // assigned before run() resolves: the list has one task and exits on its error
      await new Listr(
        [
          {
            title: mask(title),
            task: async (_ctx, task) => {
              value = await body((message) => {
                task.output = mask(message)
              })
            },
          },
        ],
        {
          renderer: DefaultRenderer,
          rendererOptions,
          // chooseRenderer already judged the TTY of our stream; listr2 would judge stdout's, which may be a pipe.
          fallbackRenderer: DefaultRenderer,
          fallbackRendererOptions: rendererOptions,
          exitOnError: true,
          // Its SIGINT handler calls process.exit(127), which would skip releasing the lock (SPEC §7).
          registerSignalListeners: false,
        },
      ).run()
      return value
    },
    info: (message) => print(message),
    warn: (message) => print(`\x1b[33m⚠\x1b[39m ${message}`),
    block: (title, lines) => print(blockText(title, lines)),
  }
}

function blockText(title: string, lines: readonly string[]): string {
  return [title, ...lines.map((line) => `    ${line}`)].join('\n')
}

function secondsSince(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)}s`
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
