import { composeVersion } from '../docker/compose.js'
import { dockerEngineId, dockerVersion } from '../docker/docker.js'
import type { Engine } from '../docker/engine.js'
import { parseComposeVersion } from '../docker/parse.js'
import type { Runner } from '../docker/runner.js'
import type { Deps } from '../run/context.js'
import { EngineUnavailableError } from '../errors.js'
import { mask } from '../secrets.js'
import { cachedComposeVersion, composeBinaryKey, entryKey, rememberComposeVersion } from './composeCache.js'

export interface EngineInfo {
  server: string
  compose: string
}

const MIN_COMPOSE = [2, 20] as const

/** SPEC §1/§4: the engine must answer and Compose must be v2 ≥ 2.20; anything else exits 6. */
export async function checkEngine(deps: Pick<Deps, 'run' | 'target'>): Promise<EngineInfo> {
  const { run, target } = deps
  const docker = await run(dockerVersion(target.engine), { allowFailure: true })
  if (docker.exitCode !== 0) {
    const why = mask(docker.stderr.trim().split('\n').pop() ?? '')
    throw new EngineUnavailableError(`the Docker engine does not answer${why ? `: ${why}` : ''}`)
  }
  let server = ''
  let engineId: string | undefined
  try {
    const parsed = JSON.parse(docker.stdout) as { Server?: { Version?: string }; ServerID?: string }
    server = String(parsed.Server?.Version ?? '')
    engineId = parsed.ServerID
  } catch {
    server = 'unknown'
  }
  return { server, compose: await checkedCompose(run, target.engine, engineId) }
}

/**
 * checkEngine's Compose half, for a command the engine has just answered (status, after its listing): that the
 * engine answers is known, so it is not asked again, and Compose's version is found by the engine's ID, which
 * is kept per socket (docker/identity.ts). Over the socket nothing is then sent at all in the usual case.
 */
export async function checkComposeOfAnswering(deps: Pick<Deps, 'run' | 'target'>): Promise<string> {
  const { run, target } = deps
  const answer = await run(dockerEngineId(target.engine), { allowFailure: true })
  let engineId: string | undefined
  try {
    const id = JSON.parse(answer.stdout) as unknown
    engineId = answer.exitCode === 0 && typeof id === 'string' && id !== '' ? id : undefined
  } catch {
    engineId = undefined
  }
  return checkedCompose(run, target.engine, engineId)
}

/** Compose's version, when it is v2 ≥ 2.20; anything else exits 6. */
async function checkedCompose(run: Runner, engine: Engine, engineId: string | undefined): Promise<string> {
  const version = await composeVersionOf(run, engine, engineId)
  const major = Number(version.split('.')[0] ?? 0)
  const minor = Number(version.split('.')[1] ?? 0)
  if (major < MIN_COMPOSE[0] || (major === MIN_COMPOSE[0] && minor < MIN_COMPOSE[1])) {
    throw new EngineUnavailableError(
      `Docker Compose ${version || '(unknown version)'} is too old: berth needs Compose v2 ≥ ${MIN_COMPOSE.join('.')}`,
      undefined,
      'COMPOSE_TOO_OLD',
    )
  }
  return version
}

/**
 * Compose's version: from the cache when this engine (its ID, known only when it is read over its socket) was
 * checked with this very Compose binary, else from `docker compose version`, then remembered.
 */
async function composeVersionOf(run: Runner, engine: Engine, engineId: string | undefined): Promise<string> {
  // Without the engine's ID (the CLI answered) nothing is looked up: Compose is asked at once, as always.
  const binary = engineId ? await composeBinaryKey(process.env) : undefined
  const cacheKey = engineId && binary ? entryKey(engineId, binary) : undefined
  const cached = cacheKey ? await cachedComposeVersion(cacheKey) : undefined
  if (cached) return cached
  const compose = await run(composeVersion(engine), { allowFailure: true })
  if (compose.exitCode !== 0) {
    throw new EngineUnavailableError(
      'Docker Compose v2 (`docker compose`) is not installed; berth does not use Compose v1 (`docker-compose` 1.x)',
      undefined,
      'COMPOSE_MISSING',
    )
  }
  const { version, major } = parseComposeVersion(compose.stdout)
  if (cacheKey && major >= 2) await rememberComposeVersion(cacheKey, version)
  return version
}
