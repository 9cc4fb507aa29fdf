import { readFile, statfs } from 'node:fs/promises'
import { hostname } from 'node:os'
import { resolve } from 'node:path'

import { type Engine, SHELL_ENGINE } from '../docker/engine.js'
import { run as runCommand, type Runner } from '../docker/runner.js'
import { httpRequest, probeHttp } from '../health/probe.js'
import { COMPOSE_SCHEME } from '../names.js'
import { localFiles } from './files.js'
import type { HostFiles, RunIdentity, StateStore, Target } from './target.js'

/** Whether a process of this machine runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The shell's DOCKER_HOST names another machine: this machine's disk is not the engine's. */
function shellEngineIsRemote(): boolean {
  const host = process.env.DOCKER_HOST
  return !!host && !host.startsWith('unix://')
}

const localHost: HostFiles = {
  files: localFiles,
  socket: async (path) => path,
  // This machine's routes are the engine host's only while the shell's engine is this machine's.
  routes: async () => (shellEngineIsRemote() ? '' : readFile('/proc/net/route', 'utf8').catch(() => '')),
  tcpSockets: async () => {
    if (shellEngineIsRemote()) return ''
    const read = (path: string) => readFile(path, 'utf8').catch(() => '')
    return (await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')])).join('')
  },
  freeBytes: async (dir) => {
    if (shellEngineIsRemote()) return undefined
    const fs = await statfs(dir)
    return fs.bavail * fs.bsize
  },
  edgeDir: async () => localEdgeDir(),
  // No uids (not POSIX): nothing to refuse, as before there was a target.
  uid: async () => process.getuid?.() ?? 0,
}

/** The edge's directory on this machine: BERTH_EDGE_DIR, by default /var/lib/berth-edge. */
export function localEdgeDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BERTH_EDGE_DIR || '/var/lib/berth-edge')
}

/** State in a directory of this machine: compose reads its files where they are. */
export function localState(dir: string): StateStore {
  return { dir, files: localFiles, workDir: dir, localPath: async (path) => path }
}

export function localRuns(): RunIdentity {
  const name = hostname()
  return { pid: process.pid, hostname: name, alive: (holder) => (holder.host === name ? processAlive(holder.pid) : undefined) }
}

/**
 * This machine's engine, as the shell points at it (SPEC §10: an environment without host: or context:),
 * compose projects on it, probes from this machine, state in the app's state directory.
 */
export function localTarget(options: { stateDir: string; run?: Runner; engine?: Engine }): Target {
  return {
    kind: 'compose',
    description: 'the local engine',
    engine: options.engine ?? SHELL_ENGINE,
    run: options.run ?? runCommand,
    probe: (p) => probeHttp(p),
    request: (r) => httpRequest(r),
    labels: COMPOSE_SCHEME,
    host: localHost,
    state: localState(options.stateDir),
    runs: localRuns(),
  }
}
