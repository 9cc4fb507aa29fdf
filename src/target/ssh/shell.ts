import type { Readable, Writable } from 'node:stream'
import { randomHex } from '../../crypto.js'

/** A word for sh: single-quoted, so nothing in it is expanded. */
export function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export interface ShellResult {
  code: number
  /** stdout and stderr of the script, together. */
  output: string
}

/**
 * One `sh` on the far side of the SSH connection, fed scripts on its stdin: what berth reads and writes on a
 * host (its state, the edge's files) costs one round trip inside the open connection, not a new SSH session.
 * Each script runs in a subshell with stdin from /dev/null and ends with a marker carrying a nonce no
 * output can guess, followed by its exit status. Data (a state file, which may hold secrets) travels inside
 * the script on stdin, never in an argv either machine shows in `ps`. One script at a time, in order.
 */
export class RemoteShell {
  private buffer = ''
  private readonly pending: { marker: string; resolve: (r: ShellResult) => void; reject: (e: Error) => void }[] = []
  private failure: Error | undefined
  private readonly nonce = randomHex(8)
  private count = 0

  constructor(
    private readonly stdin: Writable,
    stdout: Readable,
  ) {
    stdout.setEncoding('utf8')
    stdout.on('data', (chunk: string) => this.receive(chunk))
    stdin.on('error', () => {}) // a gone shell is reported by fail(), from the process's exit
  }

  /** Runs one script; resolves with its exit status and output, rejects once the shell is gone. */
  exec(script: string): Promise<ShellResult> {
    if (this.failure) return Promise.reject(this.failure)
    const marker = `BERTH-${this.nonce}-${++this.count}`
    return new Promise((resolve, reject) => {
      this.pending.push({ marker, resolve, reject })
      this.stdin.write(`(\n${script}\n) </dev/null 2>&1; printf '\\n%s %s\\n' ${marker} "$?"\n`)
    })
  }

  /** The shell ended (the connection dropped, or was closed): every script waiting fails with `error`. */
  fail(error: Error): void {
    this.failure ??= error
    for (const p of this.pending.splice(0)) p.reject(this.failure)
  }

  private receive(chunk: string): void {
    this.buffer += chunk
    for (;;) {
      const head = this.pending[0]
      if (!head) {
        // Output while no script runs (a chatty login file) is nobody's.
        this.buffer = ''
        return
      }
      const at = this.buffer.indexOf(`\n${head.marker} `)
      if (at < 0) return
      const end = this.buffer.indexOf('\n', at + 1 + head.marker.length)
      if (end < 0) return
      const code = Number(this.buffer.slice(at + 2 + head.marker.length, end))
      const output = this.buffer.slice(0, at)
      this.buffer = this.buffer.slice(end + 1)
      this.pending.shift()
      head.resolve({ code, output })
    }
  }
}
