import type { ErrorCode } from '../errorCodes.js'
import { BerthError } from '../errors.js'

/** Caddy's admin API does not answer: the edge is down, still starting, or berth may not open its socket. */
export class EdgeUnavailableError extends BerthError {
  constructor(
    message: string,
    hint?: string,
    /** The system error of the connection (ECONNREFUSED, ENOENT, EACCES…), when there was one. */
    readonly errno?: string,
  ) {
    super(message, 'EDGE_UNAVAILABLE', hint)
  }
}

/** The edge's container stopped or restarted before its admin API answered; the message carries its last log lines. */
export class EdgeStartError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'EDGE_NOT_STARTING', hint)
  }
}

/**
 * Edge state berth cannot make sense of (its config, a live marker, its mounts, its admin directory): a
 * command that would write it stops before changing anything (exit 2); doctor shows it.
 */
export class EdgeStateError extends BerthError {
  constructor(message: string, hint?: string, code: ErrorCode = 'EDGE_STATE_DAMAGED') {
    super(message, code, hint)
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
    super(`the edge's admin API refused ${method} ${path} (HTTP ${status}): ${caddyError}`, 'EDGE_ADMIN_REJECTED', hint)
  }
}

/** A route this environment wants is already served by another environment (same listen port and host). */
export class EdgeRouteConflictError extends BerthError {
  constructor(message: string, hint?: string) {
    super(message, 'EDGE_ROUTE_CONFLICT', hint)
  }
}
