import { defaultHint, type ErrorCode, ExitCode, exitCodeOf } from './errorCodes.js'
import { mask } from './secrets.js'

export { ExitCode }

/**
 * Every failure berth expects carries a stable code (for scripts reading --json), the exit code it maps
 * to, and a hint telling the operator what to do. Messages are masked when they are rendered.
 */
export class BerthError extends Error {
  readonly exitCode: ExitCode
  readonly hint?: string

  constructor(
    message: string,
    readonly code: ErrorCode,
    hint?: string,
  ) {
    super(message)
    this.name = new.target.name
    this.exitCode = exitCodeOf(code)
    const shown = hint ?? defaultHint(code)
    if (shown !== undefined) this.hint = shown
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, exitCode: this.exitCode, message: mask(this.message), hint: this.hint && mask(this.hint) }
  }
}

/** deploy.yml or an env file is wrong; nothing was changed. */
export class ConfigError extends BerthError {
  constructor(message: string, hint?: string, code: ErrorCode = 'CONFIG_INVALID') {
    super(message, code, hint)
  }
}

/** The command line is wrong (unknown environment, missing --yes, …); nothing was changed. */
export class UsageError extends BerthError {
  constructor(message: string, hint?: string, code: ErrorCode = 'USAGE') {
    super(message, code, hint)
  }
}

/** A preflight check refused the run before anything changed (SPEC §5). */
export class PreflightError extends BerthError {
  constructor(message: string, hint?: string, code: ErrorCode = 'PREFLIGHT_REFUSED') {
    super(message, code, hint)
  }
}

export class EngineUnavailableError extends BerthError {
  constructor(message: string, hint?: string, code: ErrorCode = 'ENGINE_UNAVAILABLE') {
    super(message, code, hint)
  }
}

export class LockHeldError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'LOCKED', hint)
  }
}

/**
 * A state file under the state directory (release records, colour state, the lock) does not parse or does
 * not match its schema. berth never overwrites it: read before a run, it refuses the run before anything
 * changes (exit 2); found by a write in the middle of a run (something else damaged it meanwhile), the run
 * stops there with exit 1, as what it did so far is not recorded. The message names the file and the
 * problem, never the content (state files hold resolved configs); `fix` is the one command to run.
 */
export class StateDamagedError extends BerthError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
    duringRun = false,
  ) {
    super(
      duringRun
        ? `${file} was damaged by something else during this run (${problem}); berth did not overwrite it, so it does not record what this run did`
        : `${file} is damaged: ${problem}; nothing was changed`,
      duringRun ? 'STATE_DAMAGED_DURING_RUN' : 'STATE_DAMAGED',
      duringRun ? `${fix} Then check what runs with: berth status` : fix,
    )
  }
}

/** The new release was not healthy; the previous one was re-applied and is healthy (exit 3). */
export class RolledBackError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'ROLLED_BACK', hint)
  }
}

/** The new release was not healthy and the environment could not be brought back (exit 4). */
export class NeedsPersonError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'ROLLBACK_FAILED', hint)
  }
}

/** A docker or compose command failed; carries its argv, exit code and (masked) stderr. */
export class DockerCommandError extends BerthError {
  constructor(
    readonly argv: readonly string[],
    readonly commandExitCode: number | undefined,
    readonly stderr: string,
  ) {
    const detail = stderr.trim().split('\n').slice(-20).join('\n')
    super(`${argv.join(' ')} failed (exit ${commandExitCode ?? 'signal'})${detail ? `:\n${detail}` : ''}`, 'DOCKER_FAILED')
  }
}

/**
 * A read sent to the Engine API over its socket (SPEC §1) that the engine refused: names the request and
 * the docker command it stands for, with the engine's message (masked).
 */
export class EngineRequestError extends DockerCommandError {
  constructor(
    argv: readonly string[],
    readonly request: string,
    readonly status: number,
    message: string,
  ) {
    super(argv, undefined, message)
    this.message = `the Docker engine answered ${request} with HTTP ${status} (for ${argv.join(' ')})${message ? `: ${message.trim().split('\n').slice(-20).join('\n')}` : ''}`
  }
}
