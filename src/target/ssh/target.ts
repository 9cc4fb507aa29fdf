import { join } from 'node:path'

import type { SshLocation } from '../../config/types.js'
import { runPinned, type Runner } from '../../docker/runner.js'
import { httpRequest, probeHttp } from '../../health/probe.js'
import { COMPOSE_SCHEME } from '../../names.js'
import { localFiles } from '../files.js'
import { localRuns } from '../local.js'
import type { HostFiles, StateStore, Target } from '../target.js'
import { ConnectionLostError, SshConnection } from './connection.js'
import { sshFiles } from './files.js'
import { shq } from './shell.js'

/** SPEC §10: an app's state on an ssh:// host. */
export const HOST_STATE_ROOT = '/var/lib/berth'

export interface SshTarget extends Target {
  readonly connection: SshConnection
}

/** A directory name for a host's local working files: user@host_port with nothing a path could trip on. */
export function hostKey(location: SshLocation): string {
  return `${location.user ? `${location.user}@` : ''}${location.host}${location.port ? `_${location.port}` : ''}`.replace(/[^A-Za-z0-9@._-]/g, '_')
}

/**
 * Another host's engine over one SSH connection (SPEC §10). Docker and compose run here, against the host's
 * engine socket forwarded to a local one; probes go through forwards to the URL's host:port as the host
 * sees it; the app's state (lock, records, configs, audit log) is the host's /var/lib/berth/<app>/, so every
 * operator shares it; the files compose must read (the override, colour files, recorded configs) are
 * copied to this machine's <state dir>/.remote/<host>/.
 */
export function sshTarget(location: SshLocation, options: { app: string; localStateDir: string; run?: Runner }): SshTarget {
  const connection = new SshConnection(location)
  const baseRun = options.run ?? runPinned
  const shell = async () => (await connection.ready()).shell
  const files = sshFiles(shell, location.url)
  const workDir = join(options.localStateDir, '.remote', hostKey(location))

  const run: Runner = async (argv, runOptions) => {
    // What needs no engine (git, compose's own parse of the files) runs while the connection is still being made.
    if (!needsEngine(argv)) return baseRun(argv, runOptions)
    await connection.ready()
    const losses = connection.losses
    try {
      const result = await baseRun(argv, runOptions)
      if (connection.losses !== losses && result.exitCode !== 0) throw new ConnectionLostError(location.url, connection.lastLoss ?? 'ssh exited')
      return result
    } catch (error) {
      if (connection.losses !== losses && !(error instanceof ConnectionLostError)) throw new ConnectionLostError(location.url, connection.lastLoss ?? 'ssh exited')
      throw error
    }
  }

  const host: HostFiles = {
    files,
    socket: (path) => connection.forward(path),
    routes: async () => (await shell()).exec('cat /proc/net/route').then((r) => (r.code === 0 ? r.output : '')),
    tcpSockets: async () => (await shell()).exec('cat /proc/net/tcp /proc/net/tcp6 2>/dev/null').then((r) => r.output),
    freeBytes: async (dir) => {
      const result = await (await shell()).exec(`df -Pk ${shq(dir)} | tail -n 1`)
      const available = Number(result.output.trim().split(/\s+/)[3])
      return result.code === 0 && Number.isFinite(available) ? available * 1024 : undefined
    },
    edgeDir: async () => (await connection.ready()).edgeDir,
    edgeWorkDir: join(workDir, 'edge'),
    uid: async () => (await connection.ready()).uid,
  }

  return {
    kind: 'compose',
    description: location.context ? `${location.url} (context ${location.context})` : location.url,
    engine: { host: `unix://${connection.engineSocket}` },
    run,
    probe: (p) => probeHttp(p, { socketPath: (hostPort) => connection.forward(hostPort) }),
    request: (r) => httpRequest(r, { socketPath: (hostPort) => connection.forward(hostPort) }),
    labels: COMPOSE_SCHEME,
    host,
    state: hostState(`${HOST_STATE_ROOT}/${options.app}`, files, workDir),
    runs: localRuns(),
    connection,
  }
}

/** Whether an argv reaches the engine: not git, not `docker compose … config` (compose resolves the files alone). */
export function needsEngine(argv: readonly string[]): boolean {
  if (argv[0] !== 'docker') return false
  // composeBuilder's argv: compose, its global options, --env-file FILE last, then the subcommand.
  const compose = argv.indexOf('compose')
  const envFile = compose > 0 ? argv.indexOf('--env-file', compose) : -1
  return !(envFile > 0 && argv[envFile + 2] === 'config')
}

/**
 * The host's state directory: compose reads a state file (a release's recorded config) from a copy under
 * this machine's workDir, made once per run.
 */
function hostState(dir: string, files: HostFiles['files'], workDir: string): StateStore {
  const copies = new Map<string, Promise<string>>()
  return {
    dir,
    files,
    workDir,
    localPath: (path) => {
      let copy = copies.get(path)
      if (!copy) {
        copy = (async () => {
          const local = join(workDir, 'state', path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : path.replace(/\//g, '_'))
          const content = await files.read(path)
          if (content === undefined) throw new Error(`${path} is missing on the host`)
          await localFiles.writeAtomic(local, content)
          return local
        })()
        copies.set(path, copy)
      }
      return copy
    },
  }
}
