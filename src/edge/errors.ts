import { BerthError, ExitCode } from '../errors.js'

/** Caddy's admin API does not answer: the edge is down, still starting, or listens on another port. */
export class EdgeUnavailableError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'EDGE_UNAVAILABLE', ExitCode.unexpected, hint)
  }
}

/** Caddy's admin API refused a request; the message carries Caddy's own error text. */
export class EdgeAdminError extends BerthError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly caddyError: string,
    hint?: string,
  ) {
    super(`the edge's admin API refused ${method} ${path} (HTTP ${status}): ${caddyError}`, 'EDGE_ADMIN_REJECTED', ExitCode.unexpected, hint)
  }
}

/** A route this environment wants is already served by another environment (same listen port and host). */
export class EdgeRouteConflictError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'EDGE_ROUTE_CONFLICT', ExitCode.unexpected, hint)
  }
}
