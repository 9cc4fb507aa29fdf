import type { Deps } from '../../run/context.js'
import { BerthError, ExitCode } from '../../errors.js'
import { checkEngine, type EngineInfo } from '../../target/engine.js'
import type { Check, CheckId } from '../check.js'

/** The engine's versions, or why it is unavailable (exit 6); any other error is thrown. */
export async function readEngine(deps: Pick<Deps, 'run' | 'target'>): Promise<EngineInfo | BerthError> {
  try {
    return await checkEngine(deps)
  } catch (error) {
    if (!(error instanceof BerthError) || error.exitCode !== ExitCode.engineUnavailable) throw error
    return error
  }
}

/** A check that needs the engine, when the engine does not answer. */
export function engineDown(id: CheckId): Check {
  return { id, status: 'warn', summary: 'not checked: the Docker engine does not answer', details: [] }
}

export function engineChecks(engine: EngineInfo | BerthError): Check[] {
  if (!(engine instanceof BerthError)) {
    return [
      { id: 'engine', status: 'ok', summary: `Docker Engine ${engine.server} answers`, details: [] },
      { id: 'compose', status: 'ok', summary: `Docker Compose ${engine.compose}`, details: [] },
    ]
  }
  const failed = (id: CheckId): Check => ({ id, status: 'fail', summary: engine.message, details: [], ...(engine.hint ? { hint: engine.hint } : {}) })
  // checkEngine asks the engine first: a Compose error means the engine itself answered.
  if (engine.code.startsWith('COMPOSE_')) return [{ id: 'engine', status: 'ok', summary: 'the Docker engine answers', details: [] }, failed('compose')]
  return [failed('engine'), engineDown('compose')]
}

/** Why an SSH host's engine is unavailable when the host itself cannot be reached: then nothing of it reads. */
const UNREACHABLE: ReadonlySet<string> = new Set(['HOST_UNREACHABLE', 'HOST_LOGIN_REFUSED', 'HOST_KEY_UNKNOWN', 'HOST_FORWARDING_REFUSED', 'CONNECTION_LOST'])

/** The engine's host could not be reached at all (SSH refused, timed out, its key unknown, the connection lost). */
export function hostUnreachable(error: BerthError): boolean {
  return UNREACHABLE.has(error.code)
}

/** An engine whose host cannot be reached: one failed finding with the reason, naming what runs there. */
export function unreachableCheck(error: BerthError, envs: readonly string[]): Check {
  return {
    id: 'engine',
    status: 'fail',
    summary: error.message,
    details: [`${envs.join(', ')} ${envs.length === 1 ? 'runs' : 'run'} there: not checked`],
    ...(error.hint ? { hint: error.hint } : {}),
  }
}
