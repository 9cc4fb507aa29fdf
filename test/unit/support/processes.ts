import { readFileSync } from 'node:fs'

/**
 * The process still runs: it exists and has not ended (a zombie waits only for its parent, or this machine's init,
 * to reap it, which can come late). Read from /proc/<pid>/stat, whose state follows the last ')' of the name.
 */
export function processRuns(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}
