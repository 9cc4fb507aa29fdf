import { execa } from 'execa'

/**
 * The one place a hook's shell runs (SPEC §11). Not the docker runner (src/docker/runner.ts): a hook gets its
 * own environment (hookEnvironment), and it runs as the leader of a process group of its own, so that a hook
 * that hangs is killed at its timeout with everything it started (`sleep 100 &` included), and whatever it
 * left running when its shell exits, or when berth itself exits, ends with it.
 */
export interface HookProcess {
  command: string
  cwd: string
  env: Record<string, string>
  timeoutMs: number
  /** Each line of its stdout and stderr as it arrives. */
  onLine: (line: string) => void
}

export interface HookExit {
  /** The shell's exit code; undefined when it was ended by a signal. */
  exitCode: number | undefined
  signal: string | undefined
  /** It was killed at its timeout. */
  timedOut: boolean
  durationMs: number
}

/** Time between SIGTERM and SIGKILL for a hook at its timeout. */
export const KILL_GRACE_MS = 2_000

/** Process groups of hooks still running: killed if berth exits meanwhile (an interrupted run, SPEC §7). */
const running = new Set<number>()
const killRunning = () => {
  for (const pid of running) killGroup(pid, 'SIGKILL')
}

export async function runHookProcess(hook: HookProcess): Promise<HookExit> {
  const started = performance.now()
  const line = function* (text: unknown) {
    hook.onLine(String(text))
  }
  const child = execa('/bin/sh', ['-c', hook.command], {
    cwd: hook.cwd,
    env: hook.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    stdin: 'ignore',
    stdout: line,
    stderr: line,
  })
  const pid = child.pid
  if (pid !== undefined) {
    if (running.size === 0) process.on('exit', killRunning)
    running.add(pid)
  }
  let timedOut = false
  let forceKill: NodeJS.Timeout | undefined
  const timer = setTimeout(() => {
    if (pid === undefined) return
    timedOut = true
    killGroup(pid, 'SIGTERM')
    forceKill = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS)
  }, hook.timeoutMs)
  // The shell has exited; what it left in its group (holding its output open) ends with it.
  child.on('exit', () => {
    if (pid !== undefined) killGroup(pid, 'SIGTERM')
  })
  try {
    const result = await child
    return {
      exitCode: timedOut ? undefined : result.exitCode,
      signal: result.signal ?? undefined,
      timedOut,
      durationMs: performance.now() - started,
    }
  } finally {
    clearTimeout(timer)
    clearTimeout(forceKill)
    if (pid !== undefined) {
      // A group member that ignored SIGTERM does not outlive the hook either.
      killGroup(pid, 'SIGKILL')
      running.delete(pid)
      if (running.size === 0) process.off('exit', killRunning)
    }
  }
}

/** Signals the whole process group led by `pid`; a group already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: nothing of the group is left.
  }
}
