/** Pure builders of the ssh argv berth runs for a host. Nothing here runs anything. */

import type { SshLocation } from '../../config/types.js'

/** A local unix socket that reaches `remote` on the host: a socket path there, or host:port. */
export interface Forward {
  local: string
  remote: string
}

/** user@host as ssh's command line takes it (ssh's own default user when the URL names none). */
export function sshDestination(location: SshLocation): string {
  return location.user ? `${location.user}@${location.host}` : location.host
}

function target(location: SshLocation): string[] {
  return [...(location.port ? ['-p', String(location.port)] : []), '--', sshDestination(location)]
}

/**
 * The one connection of a run: a ControlMaster whose own session is a remote `sh` reading berth's scripts.
 * BatchMode: no prompt can hang an unattended deploy (a refused key or an unknown host key fails at once).
 * ServerAlive notices a dead peer in about 15 s. The operator's ~/.ssh/config applies as it does for ssh.
 */
export function masterArgv(location: SshLocation, controlPath: string): string[] {
  return [
    'ssh',
    '-M', '-S', controlPath,
    '-o', 'ControlPersist=no',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${Math.max(1, Math.ceil(location.connectTimeoutMs / 1000))}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'StreamLocalBindUnlink=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-T',
    ...target(location),
    'exec sh',
  ]
}

/** Adds a forward to the running master: a local socket to the host's socket (or host:port). */
export function muxForwardArgv(location: SshLocation, controlPath: string, forward: Forward): string[] {
  return ['ssh', '-S', controlPath, '-o', 'StreamLocalBindUnlink=yes', '-O', 'forward', '-L', `${forward.local}:${forward.remote}`, ...target(location)]
}

/** Runs one command on the host through the master, as a new session of the same connection (streams, `docker save | …`). */
export function muxCommandArgv(location: SshLocation, controlPath: string, command: string): string[] {
  return ['ssh', '-S', controlPath, '-o', 'BatchMode=yes', '-T', ...target(location), command]
}
