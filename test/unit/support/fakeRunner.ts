import { basename } from 'node:path'
import { expect } from 'vitest'

import { DockerCommandError } from '../../../src/errors.js'
import type { RunOptions, RunResult, Runner } from '../../../src/docker/runner.js'
import { COMPOSE_LABEL } from '../../../src/names.js'

/**
 * A scripted engine for flow tests (STYLE.md: tests assert the argv a flow would run, in order, without
 * Docker). Commands are named by their compact form (`compact`), so a script or an expected sequence reads
 * `docker compose -p shop-staging up`, a word prefix of what ran.
 */

/** What a command prints and exits with; `lines` are streamed to an `onLine` caller instead of stdout. */
export interface Answer {
  stdout?: string
  stderr?: string
  exitCode?: number
  lines?: string[]
}

export type Reply = Answer | ((argv: readonly string[], options: RunOptions) => Answer | Promise<Answer>)

/** What an engine that answers prints for berth's engine check (SPEC §1: Compose v2 ≥ 2.20). */
export const DOCKER_VERSION: Answer = { stdout: '{"Server":{"Version":"27.3.1"}}' }
export const COMPOSE_VERSION: Answer = { stdout: '{"version":"v2.29.7"}' }

/** Words the compact command begins with, or a predicate on its argv. */
export type Match = string | ((argv: readonly string[]) => boolean)

export interface Call {
  argv: readonly string[]
  options: RunOptions
}

/** Something the flow did that is not a command (an edge switch through a mocked module): recorded in order with the commands. */
export interface Note {
  note: string
}

interface Scripted {
  match: Match
  reply: Reply
}

const OPTIONS_SELECTING_FILES = new Set(['--project-directory', '--file', '--env-file'])

/**
 * A command as a sequence shows it: compose's project as `-p`, without the directory, files and env file
 * (assert those with `filesOf`). `docker compose --project-name shop-staging --project-directory /app
 * --file a.yaml --env-file s.env up --detach` → `docker compose -p shop-staging up --detach`.
 */
export function compact(argv: readonly string[]): string {
  if (!argv.includes('compose')) return argv.join(' ')
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string
    if (word === '--project-name') out.push('-p', argv[++i] as string)
    else if (OPTIONS_SELECTING_FILES.has(word)) i++
    else out.push(word)
  }
  return out.join(' ')
}

function matches(match: Match, argv: readonly string[]): boolean {
  if (typeof match === 'function') return match(argv)
  const words = compact(argv).split(' ')
  const wanted = match.split(' ')
  return wanted.every((w, i) => words[i] === w)
}

function describeMatch(match: Match): string {
  return typeof match === 'string' ? match : `(a command matching ${match.toString()})`
}

/** The calls whose compact command begins with `match`. */
export function callsTo(runner: Pick<FakeRunner, 'calls'>, match: Match): Call[] {
  return runner.calls.filter((c) => matches(match, c.argv))
}

/** The compose files a call was given, by file name. */
export function filesOf(call: Call): string[] {
  return call.argv.flatMap((word, i) => (call.argv[i - 1] === '--file' ? [basename(word)] : []))
}

/** The `docker ps` of one compose project's containers: what every health wait reads. */
export function psOf(project: string): string {
  return `docker ps --all --no-trunc --filter label=${COMPOSE_LABEL.project}=${project}`
}

/** A container as a health wait sees it: the engine's state, and for a running one its healthcheck's verdict. */
export type ContainerState = 'running' | 'starting' | 'healthy' | 'unhealthy' | 'exited' | 'restarting'

/** docker's Status column for each: health is only read from there. */
const STATUS: Record<ContainerState, string> = {
  running: 'Up 3 seconds',
  starting: 'Up 3 seconds (health: starting)',
  healthy: 'Up 9 seconds (healthy)',
  unhealthy: 'Up 9 seconds (unhealthy)',
  exited: 'Exited (1) 2 seconds ago',
  restarting: 'Restarting (1) 1 second ago',
}

/** `docker ps` output for one compose project: one container per service, in the given state, publishing `ports` (docker's Ports column). */
export function containers(project: string, services: Record<string, ContainerState>, ports: Record<string, string> = {}): Answer {
  const rows = Object.entries(services).map(([service, state]) => {
    const status = STATUS[state]
    const labels = [`${COMPOSE_LABEL.project}=${project}`, `${COMPOSE_LABEL.service}=${service}`, `${COMPOSE_LABEL.oneoff}=False`, `${COMPOSE_LABEL.configHash}=hash-${project}-${service}`]
    const engineState = ['exited', 'restarting'].includes(state) ? state : 'running'
    return JSON.stringify({ ID: `${project}-${service}`, Names: `${project}-${service}-1`, Image: `${service}:x`, State: engineState, Status: status, Ports: ports[service] ?? '', Labels: labels.join(',') })
  })
  return { stdout: rows.join('\n') }
}

export interface FakeRunner {
  /** The runner to give the flow (testDeps({ run })). */
  run: Runner
  /** The next command must match; it gets `reply`. */
  expect(match: Match, reply?: Reply): FakeRunner
  /** A catch-all for repeated reads (a health wait's `docker ps`): answers any matching command the script does not expect next. */
  always(match: Match, reply: Reply): FakeRunner
  /** Records an event that is not a command, in order with the commands. */
  note(event: string): void
  /** Every command run, in order. */
  readonly calls: Call[]
  /** Commands and notes, in order. */
  readonly log: (Call | Note)[]
  /** Commands that were neither scripted next nor answered by a catch-all. */
  readonly unscripted: ReadonlySet<Call>
  /** Scripted commands that have not run yet. */
  pending(): string[]
}

/**
 * A runner that answers from a script: each call must be the next scripted command, or one a catch-all
 * answers. Anything else throws, naming the command and what was expected instead; because a flow may
 * swallow that error, `expectSequence` fails on it too. Like the real runner, a non-zero exit throws
 * DockerCommandError unless the caller allows failure. Commands a flow starts together are recorded in
 * the order it starts them.
 */
export function fakeRunner(): FakeRunner {
  const script: Scripted[] = []
  const catchAll: Scripted[] = []
  const calls: Call[] = []
  const log: (Call | Note)[] = []
  const unscripted = new Set<Call>()
  const run: Runner = async (argv, options = {}) => {
    const call = { argv, options }
    calls.push(call)
    // A health wait's event stream: this engine has none to give (it ends at once), so the wait polls, as
    // it does when a stream drops. Not in the log: sequences show what a flow asks and changes, in order.
    if (isEventStream(argv)) return answer(argv, options, { exitCode: 1, stderr: 'no event stream here' })
    log.push(call)
    const next = script[0]
    let reply: Reply | undefined
    if (next && matches(next.match, argv)) {
      script.shift()
      reply = next.reply
    } else {
      reply = catchAll.find((c) => matches(c.match, argv))?.reply
    }
    if (!reply) {
      unscripted.add(call)
      throw new Error(`unscripted command: ${compact(argv)}\n  expected: ${next ? describeMatch(next.match) : '(no more commands)'}`)
    }
    return answer(argv, options, typeof reply === 'function' ? await reply(argv, options) : reply)
  }
  const runner: FakeRunner = {
    run,
    expect(match, reply = {}) {
      script.push({ match, reply })
      return runner
    },
    always(match, reply) {
      catchAll.push({ match, reply })
      return runner
    },
    note(event) {
      log.push({ note: event })
    },
    calls,
    log,
    unscripted,
    pending: () => script.map((s) => describeMatch(s.match)),
  }
  return runner
}

function isEventStream(argv: readonly string[]): boolean {
  const at = argv.indexOf('events')
  return argv[0] === 'docker' && at > 0 && at <= 3
}

function answer(argv: readonly string[], options: RunOptions, a: Answer): RunResult {
  const exitCode = a.exitCode ?? 0
  for (const line of a.lines ?? []) options.onLine?.(line, 'stdout')
  const result = { stdout: options.onLine ? '' : (a.stdout ?? a.lines?.join('\n') ?? ''), stderr: a.stderr ?? '', exitCode }
  if (exitCode !== 0 && !options.allowFailure) throw new DockerCommandError(argv, exitCode, result.stderr)
  return result
}

/**
 * Asserts what the flow ran, in order: each entry a word prefix of the compact command (or the text of a
 * note). A command nothing scripted is shown as `UNSCRIPTED …`; scripted commands left over fail too.
 */
export function expectSequence(runner: FakeRunner, expected: readonly string[]): void {
  const seen = runner.log.map((entry, i) => {
    if ('note' in entry) return entry.note
    const shown = compact(entry.argv)
    if (runner.unscripted.has(entry)) return `UNSCRIPTED ${shown}`
    const wanted = expected[i]
    return wanted !== undefined && matches(wanted, entry.argv) ? wanted : shown
  })
  expect(seen).toEqual(expected)
  expect(runner.pending(), 'scripted commands that never ran').toEqual([])
}
