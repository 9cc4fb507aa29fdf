import { composeVersion } from '../docker/compose.js'
import { dockerVersion } from '../docker/docker.js'
import { parseComposeVersion } from '../docker/parse.js'
import type { Deps } from '../run/context.js'
import { EngineUnavailableError } from '../errors.js'
import { mask } from '../secrets.js'

export interface EngineInfo {
  server: string
  compose: string
}

const MIN_COMPOSE = [2, 20] as const

/** SPEC §1/§4: the engine must answer and Compose must be v2 ≥ 2.20; anything else exits 6. */
export async function checkEngine(deps: Pick<Deps, 'run' | 'target'>): Promise<EngineInfo> {
  const { run, target } = deps
  // Both at once: every command pays for this check, and an SSM session waits for it.
  const [docker, compose] = await Promise.all([run(dockerVersion(target.engine), { allowFailure: true }), run(composeVersion(target.engine), { allowFailure: true })])
  if (docker.exitCode !== 0) {
    const why = mask(docker.stderr.trim().split('\n').pop() ?? '')
    throw new EngineUnavailableError(`the Docker engine does not answer${why ? `: ${why}` : ''}`)
  }
  let server = ''
  try {
    server = String((JSON.parse(docker.stdout) as { Server?: { Version?: string } }).Server?.Version ?? '')
  } catch {
    server = 'unknown'
  }
  if (compose.exitCode !== 0) {
    throw new EngineUnavailableError(
      'Docker Compose v2 (`docker compose`) is not installed; berth does not use Compose v1 (`docker-compose` 1.x)',
      undefined,
      'COMPOSE_MISSING',
    )
  }
  const { version, major } = parseComposeVersion(compose.stdout)
  const minor = Number(version.split('.')[1] ?? 0)
  if (major < MIN_COMPOSE[0] || (major === MIN_COMPOSE[0] && minor < MIN_COMPOSE[1])) {
    throw new EngineUnavailableError(
      `Docker Compose ${version || '(unknown version)'} is too old: berth needs Compose v2 ≥ ${MIN_COMPOSE.join('.')}`,
      undefined,
      'COMPOSE_TOO_OLD',
    )
  }
  return { server, compose: version }
}
