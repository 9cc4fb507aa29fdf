/** Exit codes of SPEC §4. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  rolledBack: 3,
  rollbackFailed: 4,
  locked: 5,
  engineUnavailable: 6,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

interface CodeEntry {
  exit: ExitCode
  /** What to do, when the error itself gives no more precise hint. */
  hint?: string
}

const { usage, unexpected, locked, engineUnavailable, rolledBack, rollbackFailed } = ExitCode
const FIX_CONFIG = 'Fix deploy.yml where the message points, then run the command again; nothing was changed.'
const REFUSED = 'Nothing was changed. Fix what the message names, then run the command again.'

/**
 * Every stable error code berth reports (`--json` error.code, the audit log's result), the exit code it maps
 * to and its default hint. Scripts may rely on the codes; the messages are for people.
 */
export const ERROR_CODES = {
  // The command line and deploy.yml: exit 2, nothing changed.
  USAGE: { exit: usage, hint: 'See: berth COMMAND --help' },
  CONFIG_INVALID: { exit: usage, hint: FIX_CONFIG },
  CONFIG_SYNTAX: { exit: usage, hint: FIX_CONFIG },
  CONFIG_NOT_FOUND: { exit: usage, hint: 'Create one with berth init, or pass --config PATH.' },
  INVALID_APP: { exit: usage },
  INVALID_ENVIRONMENT: { exit: usage },
  UNKNOWN_ENVIRONMENT: { exit: usage },
  AMBIGUOUS_ENVIRONMENT: { exit: usage },
  UNKNOWN_SERVICE: { exit: usage },
  UNKNOWN_VARIABLE: { exit: usage },
  BAD_TAG: { exit: usage },
  COMPOSE_RETARGET: { exit: usage },
  INIT_EXISTS: { exit: usage },
  CONFIRMATION_REQUIRED: { exit: usage, hint: 'Run it again with --yes.' },
  NOT_CONFIRMED: { exit: usage },
  // Preview environments (SPEC §11): exit 2, nothing changed.
  PREVIEW_ENV_FILE_EXISTS: { exit: usage, hint: REFUSED },
  PREVIEW_PORTS_EXHAUSTED: { exit: usage, hint: REFUSED },
  // Env files: exit 2.
  ENV_FILE_MISSING: { exit: usage },
  REQUIRED_MISSING: { exit: usage },
  // Preflight refusals (SPEC §5): exit 2, nothing changed.
  PREFLIGHT_REFUSED: { exit: usage, hint: REFUSED },
  COMPOSE_CONFIG_FAILED: { exit: usage, hint: REFUSED },
  FIXED_CONTAINER_NAME: { exit: usage, hint: REFUSED },
  PORT_IN_USE: { exit: usage, hint: REFUSED },
  SHARED_NETWORK_NAME: { exit: usage, hint: REFUSED },
  NETWORK_POOLS_FULL: { exit: usage, hint: REFUSED },
  NETWORK_POOL_FULL: { exit: usage, hint: REFUSED },
  COLOUR_PUBLISHES_PORT: { exit: usage, hint: REFUSED },
  RELEASE_IMAGES_MISSING: { exit: usage, hint: REFUSED },
  UNKNOWN_RELEASE: { exit: usage, hint: REFUSED },
  ALREADY_ACTIVE: { exit: usage, hint: REFUSED },
  // A pre_deploy / pre_rollback hook failed (SPEC §11): exit 2, nothing changed.
  HOOK_FAILED: { exit: usage, hint: REFUSED },
  // berth maintenance (SPEC §9): exit 2, nothing changed.
  MAINTENANCE_UNSUPPORTED: { exit: usage },
  NOT_ROUTED: { exit: usage },
  // Swarm environments (SPEC §10): exit 2, nothing changed.
  NOT_A_SWARM_MANAGER: { exit: usage, hint: 'Deploy from a manager: docker swarm init on a one-node swarm, or point host:/context: at a manager.' },
  SWARM_UNSUPPORTED_KEY: { exit: usage, hint: REFUSED },
  REGISTRY_MISSING: { exit: usage, hint: 'Name where release images go with registry: in the environment (as its engine sees it, like 127.0.0.1:5000).' },
  REGISTRY_UNREACHABLE: { exit: usage, hint: "Check the registry from the engine's host: curl http://REGISTRY/v2/" },
  REGISTRY_LOGIN_UNSET: { exit: usage, hint: REFUSED },
  COMPOSE_NOT_FOR_SWARM: { exit: usage },
  // State files (release records, colour state, lock) and the edge's state: exit 2 before a run, 1 during it.
  STATE_DAMAGED: { exit: usage },
  STATE_DAMAGED_DURING_RUN: { exit: unexpected },
  EDGE_STATE_DAMAGED: { exit: usage },
  EDGE_ADMIN_DIR_OPEN: { exit: usage },
  EDGE_MOUNT_GONE: { exit: usage },
  EDGE_ROUTES_OUTDATED: { exit: usage },
  EDGE_ROOT_ONLY: { exit: usage, hint: "The edge's admin API is reachable by root only (SPEC §9): run berth as root (sudo berth …)." },
  // The edge proxy at work: exit 1.
  EDGE_UNAVAILABLE: { exit: unexpected, hint: 'Is the edge running? See: docker compose -p berth-edge ps; berth doctor' },
  EDGE_NOT_STARTING: { exit: unexpected },
  EDGE_ADMIN_REJECTED: { exit: unexpected },
  EDGE_ROUTE_CONFLICT: { exit: unexpected },
  // Another run holds the environment: exit 5.
  LOCKED: { exit: locked },
  // The health gate (SPEC §6): exit 3 when the previous release is back and healthy, 4 when not.
  ROLLED_BACK: { exit: rolledBack },
  ROLLBACK_FAILED: { exit: rollbackFailed },
  // The engine: exit 6.
  ENGINE_UNAVAILABLE: { exit: engineUnavailable, hint: 'Start dockerd (as root: bash scripts/engine.sh), or point DOCKER_HOST / DOCKER_CONTEXT at a running engine.' },
  DOCKER_MISSING: { exit: engineUnavailable, hint: 'Install the Docker client and Compose v2 (see scripts/engine.sh).' },
  COMPOSE_MISSING: { exit: engineUnavailable, hint: 'Install the Compose v2 CLI plugin (as root: bash scripts/engine.sh installs it).' },
  COMPOSE_TOO_OLD: { exit: engineUnavailable, hint: 'Upgrade the Compose v2 CLI plugin.' },
  // Another host's engine, over SSH (SPEC §10): exit 6, nothing changed.
  HOST_UNREACHABLE: { exit: engineUnavailable, hint: 'Check the address, that sshd runs there and the firewall, with: ssh USER@HOST true' },
  HOST_LOGIN_REFUSED: { exit: engineUnavailable, hint: 'berth logs in as ssh does, without asking: load the key into ssh-agent or name it (IdentityFile) in ~/.ssh/config.' },
  HOST_KEY_UNKNOWN: { exit: engineUnavailable, hint: "Check the host's key fingerprint with its owner, then add it: ssh-keyscan HOST >> ~/.ssh/known_hosts" },
  HOST_FORWARDING_REFUSED: { exit: engineUnavailable, hint: "berth reaches the host's engine through one forwarded socket: allow it in sshd_config (AllowStreamLocalForwarding yes, AllowTcpForwarding yes)." },
  CONNECTION_LOST: { exit: engineUnavailable },
  HOST_STATE_UNWRITABLE: { exit: usage },
  // Anything else: exit 1.
  DOCKER_FAILED: { exit: unexpected },
  REGISTRY_DIGEST_MISSING: { exit: unexpected },
  UNEXPECTED: { exit: unexpected },
  /** Audit result of a run ended by SIGINT, SIGTERM or SIGHUP. */
  INTERRUPTED: { exit: unexpected },
} as const satisfies Record<string, CodeEntry>

export type ErrorCode = keyof typeof ERROR_CODES

export function exitCodeOf(code: ErrorCode): ExitCode {
  return ERROR_CODES[code].exit
}

export function defaultHint(code: ErrorCode): string | undefined {
  const entry: CodeEntry = ERROR_CODES[code]
  return entry.hint
}
