import type { execa as Execa } from 'execa'

import { DockerCommandError, EngineRequestError, EngineUnavailableError } from '../errors.js'
import { mask } from '../secrets.js'
import { type ApiRead, type ApiStream, apiReadOf, apiStreamOf } from './engineApi.js'
import { keepAnswer, keptAnswer } from './identity.js'
import { type EngineAnswer, engineGet, engineMessage, engineSocket, engineStream, EngineUnreachable } from './socket.js'

export interface RunOptions {
  cwd?: string
  /** Sent on stdin; otherwise stdin is closed so nothing ever waits for a keyboard. */
  input?: string
  /** Give the child berth's terminal: stdin, stdout and stderr (interactive `compose exec`). Nothing is masked. */
  inherit?: boolean
  /**
   * Hand stdout and stderr over line by line as they arrive (logs -f, compose passthrough) instead of
   * buffering them, so the caller can mask each line; the result's stdout and stderr are then empty.
   */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** With onLine: let the child read berth's stdin (`compose -- exec -T db psql < dump.sql`). */
  stdinInherit?: boolean
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean
  /**
   * Feed stdin from the stdout of this other argv, run alongside as `pipeFrom | argv` (`docker save` on one
   * engine into `docker load` on another): the bytes go from one process to the other, never to disk or
   * into berth's memory. The result is argv's; a failure names the side that failed.
   */
  pipeFrom?: readonly string[]
  /** Ends the command (a stream such as `docker events`); the result is then a failed one, not an error thrown. */
  signal?: AbortSignal
}

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** Runs one argv (argv[0] is the program). Everything berth executes goes through a Runner. */
export type Runner = (argv: readonly string[], options?: RunOptions) => Promise<RunResult>

/**
 * SPEC §2: docker runs with a clean environment, so a variable exported in the operator's shell can never
 * reach compose interpolation (seed 004). Only what locates the engine (SSH_AUTH_SOCK for ssh:// hosts)
 * and the locale passes.
 */
export function cleanEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const keep = ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'LANG', 'LANGUAGE', 'TZ', 'SSH_AUTH_SOCK']
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && (keep.includes(key) || key.startsWith('LC_'))) out[key] = value
  }
  return out
}

function stdio(options: RunOptions) {
  if (options.inherit) return { stdio: 'inherit' as const }
  const stdin = options.input !== undefined ? { input: options.input } : { stdin: options.stdinInherit ? ('inherit' as const) : ('ignore' as const) }
  const onLine = options.onLine
  if (!onLine) return stdin
  // Generator transforms see one line at a time (without its newline) and yield nothing: nothing is buffered.
  return {
    ...stdin,
    stdout: function* (line: unknown) {
      onLine(String(line), 'stdout')
    },
    stderr: function* (line: unknown) {
      onLine(String(line), 'stderr')
    },
  }
}

let execaLoaded: Promise<typeof Execa> | undefined
/**
 * execa on first use, shared with the SSH connection: a command that starts no process (status over the engine's
 * socket, a refusal before any docker call) does not load it (about 20 ms of a command's start-up).
 */
export function loadExeca(): Promise<typeof Execa> {
  return (execaLoaded ??= import('execa').then((module) => module.execa))
}

let commandCount = 0
/** How many commands this process has run: the benchmark counts docker calls with it (BERTH_TRACE). */
export function commandsRun(): number {
  return commandCount
}

/** What locates an engine in the environment: left out for argv that name their engine themselves (SPEC §10). */
const ENGINE_VARIABLES = ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY']

type Environment = (env: Record<string, string>) => Record<string, string>

const pinnedEnvironment: Environment = (env) => Object.fromEntries(Object.entries(env).filter(([key]) => !ENGINE_VARIABLES.includes(key)))
const shellEnvironment: Environment = (env) => env

/**
 * A runner for an environment whose engine deploy.yml names (host: or context:): the shell's DOCKER_HOST and
 * DOCKER_CONTEXT are not passed on, so nothing exported in the operator's shell can redirect its commands.
 */
export const runPinned: Runner = (argv, options) => runWith(argv, options, pinnedEnvironment)

export const run: Runner = (argv, options) => runWith(argv, options, shellEnvironment)

async function runWith(argv: readonly string[], options: RunOptions = {}, environment: Environment): Promise<RunResult> {
  const [file, ...args] = argv
  if (!file) throw new Error('empty argv')
  if (options.pipeFrom) return runPiped(options.pipeFrom, argv, options, environment)
  const overSocket = await answerOverSocket(argv, options, environment === shellEnvironment)
  if (overSocket) return overSocket
  commandCount++
  // The offset from the process start shows where a command's time goes (`BERTH_TRACE=1 berth deploy …`).
  if (process.env.BERTH_TRACE) process.stderr.write(`[trace] ${mask(argv.join(' '))} (+${Math.round(performance.now())} ms)\n`)
  const execa = await loadExeca()
  const result = await execa(file, args, {
    env: environment(cleanEnv(process.env)),
    extendEnv: false,
    reject: false,
    cwd: options.cwd,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...stdio(options),
  })
  const stdout = typeof result.stdout === 'string' ? result.stdout : ''
  const stderr = typeof result.stderr === 'string' ? result.stderr : ''
  throwWhenNotInstalled(file, result)
  const exitCode = result.exitCode ?? 1
  if (exitCode !== 0 && !options.allowFailure) throw new DockerCommandError(argv, result.exitCode, mask(stderr))
  return { stdout, stderr, exitCode }
}

let requestCount = 0
/** How many Engine API requests this process sent over a socket instead of running docker (BERTH_TRACE). */
export function engineRequestsSent(): number {
  return requestCount
}

function traceRequest(what: string): void {
  requestCount++
  if (process.env.BERTH_TRACE) process.stderr.write(`[trace-api] ${mask(what)} (+${Math.round(performance.now())} ms)\n`)
}

/**
 * SPEC §1: a read argv that docker.ts built with its Engine API request (engineApi.ts) is answered over the
 * engine's unix socket, printed as the CLI prints it; undefined when the engine is no unix socket or nothing
 * listens there, and the CLI runs it (and says why it cannot reach the engine, in its own words).
 */
async function answerOverSocket(argv: readonly string[], options: RunOptions, shellVariables: boolean): Promise<RunResult | undefined> {
  const read = apiReadOf(argv)
  const stream = options.onLine ? apiStreamOf(argv) : undefined
  if (!read && !stream) return undefined
  const socket = engineSocket((read ?? stream)!.engine, process.env, shellVariables)
  if (!socket) return undefined
  try {
    return read ? await sendRead(argv, read, socket, options) : await sendStream(stream!, socket, options)
  } catch (error) {
    if (error instanceof EngineUnreachable) return undefined
    throw error
  }
}

async function sendRead(argv: readonly string[], read: ApiRead, socket: string, options: RunOptions): Promise<RunResult> {
  const answers = await Promise.all(
    read.gets.map(async (get): Promise<EngineAnswer> => {
      const kept = get.keep ? keptAnswer(socket, get.path) : undefined
      if (kept) return { status: 200, body: kept }
      traceRequest(`GET ${decodeURIComponent(get.path)} on unix://${socket}`)
      const answer = await engineGet(socket, get.path)
      if (get.keep && answer.status === 200) keepAnswer(socket, get.path, answer.body, get.keep)
      if (!get.header || answer.status < 200 || answer.status >= 300) return answer
      const value = answer.headers?.[get.header]
      return { ...answer, body: Array.isArray(value) ? value.join(', ') : value }
    }),
  )
  const bodies: unknown[] = []
  const missing: string[] = []
  for (const [i, answer] of answers.entries()) {
    const get = read.gets[i]!
    if (answer.status >= 200 && answer.status < 300) {
      bodies.push(answer.body)
    } else if (answer.status === 404 && get.missing) {
      bodies.push(undefined)
      missing.push(get.missing)
    } else {
      const message = mask(engineMessage(answer))
      if (options.allowFailure) return { stdout: '', stderr: `Error response from daemon: ${message}`, exitCode: 1 }
      throw new EngineRequestError(argv, `GET ${get.path}`, answer.status, message)
    }
  }
  const stdout = read.render(bodies)
  const stderr = missing.join('\n')
  const exitCode = missing.length > 0 ? 1 : 0
  if (exitCode !== 0 && !options.allowFailure) throw new DockerCommandError(argv, exitCode, stderr)
  return { stdout, stderr, exitCode }
}

/** A stream ends when the engine ends it (dropped, or the engine stopped) or the signal aborts it. */
async function sendStream(stream: ApiStream, socket: string, options: RunOptions): Promise<RunResult> {
  traceRequest(`GET ${decodeURIComponent(stream.path)} on unix://${socket} (streamed)`)
  const onLine = options.onLine!
  const answer = await engineStream(socket, stream.path, (line) => onLine(line, 'stdout'), options.signal)
  if (answer.status >= 400 || answer.status < 0) return { stdout: '', stderr: `Error response from daemon: ${mask(engineMessage(answer))}`, exitCode: 1 }
  // Aborted (status 0): as a CLI process that was ended.
  return { stdout: '', stderr: '', exitCode: answer.status === 0 ? 1 : 0 }
}

function throwWhenNotInstalled(file: string, result: { failed: boolean; exitCode?: number; message?: string }): void {
  if (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message))) {
    throw new EngineUnavailableError(`${file} is not installed or not on PATH`, undefined, 'DOCKER_MISSING')
  }
}

/** `docker --host …` / `docker --context …`: an argv that names its engine itself (dockerCli). */
function namesItsEngine(argv: readonly string[]): boolean {
  return argv[0] === 'docker' && (argv[1] === '--host' || argv[1] === '--context')
}

/**
 * `from | to` with execa's pipe, which waits for both sides like a shell with pipefail. `to` gets the runner's
 * environment; `from` the one its own argv calls for (the shell's engine variables unless it names its engine),
 * since the two sides may be different engines. Nothing of `from`'s stdout is buffered here.
 */
async function runPiped(from: readonly string[], to: readonly string[], options: RunOptions, environment: Environment): Promise<RunResult> {
  const [fromFile, ...fromArgs] = from
  const [toFile, ...toArgs] = to as [string, ...string[]]
  if (!fromFile) throw new Error('empty argv')
  commandCount += 2
  if (process.env.BERTH_TRACE) process.stderr.write(`[trace] ${mask(from.join(' '))} | ${mask(to.join(' '))} (+${Math.round(performance.now())} ms)\n`)
  const execa = await loadExeca()
  const common = { extendEnv: false, reject: false, cwd: options.cwd } as const
  const env = cleanEnv(process.env)
  const source = execa(fromFile, fromArgs, { ...common, env: (namesItsEngine(from) ? pinnedEnvironment : shellEnvironment)(env), stdin: 'ignore', buffer: { stdout: false } })
  const destination = execa(toFile, toArgs, { ...common, env: environment(env) })
  await source.pipe(destination).catch(() => undefined) // both results are read below, failed or not
  const [sent, received] = await Promise.all([source, destination])
  throwWhenNotInstalled(fromFile, sent)
  throwWhenNotInstalled(toFile, received)
  const text = (output: unknown) => (typeof output === 'string' ? output : '')
  const sides = [
    { argv: from, exitCode: sent.exitCode ?? 1, stderr: mask(text(sent.stderr)) },
    { argv: to, exitCode: received.exitCode ?? 1, stderr: mask(text(received.stderr)) },
  ]
  const failed = sides.filter((side) => side.exitCode !== 0)
  const exitCode = failed[0]?.exitCode ?? 0
  if (failed.length > 0 && !options.allowFailure) throw pipeError(failed)
  return { stdout: text(received.stdout), stderr: sides.map((s) => s.stderr).filter(Boolean).join('\n'), exitCode }
}

/** The side that failed; when both did, both, each with what it said (the writer's error usually explains the reader's). */
function pipeError(failed: { argv: readonly string[]; exitCode: number; stderr: string }[]): DockerCommandError {
  const [first, second] = failed as [(typeof failed)[0], (typeof failed)[0] | undefined]
  if (!second) return new DockerCommandError(first.argv, first.exitCode, first.stderr)
  const said = failed.map((side) => `${side.argv.join(' ')} (exit ${side.exitCode}): ${side.stderr.trim() || 'no output'}`).join('\n')
  return new DockerCommandError([...first.argv, '|', ...second.argv], second.exitCode, `both sides failed:\n${said}`)
}
