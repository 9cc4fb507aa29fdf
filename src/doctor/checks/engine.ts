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
