import type { HttpProbe } from '../config/types.js'
import type { Engine } from '../docker/engine.js'
import type { LabelScheme } from '../docker/parse.js'
import type { Files } from './files.js'
import type { Runner } from '../docker/runner.js'
import type { HttpAnswer, HttpRequest } from '../health/probe.js'
import type { ProbeResult } from '../health/wait.js'

/**
 * Where an environment runs (STYLE.md, "two seams"): which engine every docker and compose command goes to,
 * where HTTP probes and the edge's admin calls are sent from, where the environment's state and lock live,
 * and which labels tell its containers apart. Implementations: this machine's engine (local.ts), another
 * host's over SSH (ssh/target.ts); a Swarm stack is the next (docs/architecture.md).
 */
export interface Target {
  /** How an environment's containers are grouped on the engine: a compose project each, or a Swarm stack each (SPEC §10). */
  readonly kind: 'compose' | 'swarm'
  /** For people: the first progress line and status name it ("the local engine"). */
  readonly description: string
  /** The engine every argv builder is given. */
  readonly engine: Engine
  /** Runs docker and compose argv (built for `engine`): the one runner of this target. */
  readonly run: Runner
  /** One HTTP probe, sent from the engine's host: `127.0.0.1` in a URL is that host's loopback. */
  probe(probe: HttpProbe): Promise<ProbeResult>
  /** One HTTP request sent from the engine's host, as a probe is (a registry's API there). Throws when nothing answers. */
  request(request: HttpRequest): Promise<HttpAnswer>
  /** The labels that identify what the target runs. */
  readonly labels: LabelScheme
  /** The engine's host: files there (the edge's live markers and admin socket, its routes, its disk). */
  readonly host: HostFiles
  /** Where the app's state lives: each environment's records, resolved configs, audit log and lock (SPEC §7). */
  readonly state: StateStore
  /** Who runs berth here, for locks: and whether a lock's holder still runs. */
  readonly runs: RunIdentity
}

/** What berth reads and writes on the engine's host, besides the engine itself. */
export interface HostFiles {
  /** Files of that host (the edge's live markers and admin directory). */
  files: Files
  /** A unix socket path of this machine that reaches the host's socket at `path` (the edge's admin API): `path` itself here. */
  socket(path: string): Promise<string>
  /** The host's IPv4 routes, as /proc/net/route shows them ('' when they cannot be read). */
  routes(): Promise<string>
  /** The host's TCP sockets, as /proc/net/tcp and /proc/net/tcp6 show them, one after the other ('' when they cannot be read). */
  tcpSockets(): Promise<string>
  /** Free bytes for an unprivileged user under a directory of the host; undefined when its disk cannot be seen from here. */
  freeBytes(dir: string): Promise<number | undefined>
  /** The edge's directory on the host (its BERTH_EDGE_DIR, else /var/lib/berth-edge): its live markers and admin socket. */
  edgeDir(): Promise<string>
  /** A directory of this machine for the edge's compose files, which compose reads here: the edge directory itself for this machine. */
  readonly edgeWorkDir?: string
  /** The uid berth acts as on the host (its SSH login's there, this process's here): the edge's admin API is root's alone. */
  uid(): Promise<number>
}

/** The app's state directory on a target, and the files it is kept in. */
export interface StateStore {
  /** The app's state directory there (SPEC §7: .berth beside deploy.yml, or state_dir). */
  readonly dir: string
  readonly files: Files
  /**
   * A directory of this machine for the files berth generates for compose to read (the release override,
   * the stateful and colour projects' files): the state directory itself when the state is here.
   */
  readonly workDir: string
  /** A path of this machine holding a state file's content, for compose to read: the file itself when the state is here. */
  localPath(path: string): Promise<string>
}

/** The run's own identity, recorded in locks, and how a recorded holder is judged. */
export interface RunIdentity {
  pid: number
  /** The machine berth runs on (the holder's host in a lock). */
  hostname: string
  /** Whether the holder's process still runs: undefined when it cannot be told from here (another machine). */
  alive(holder: { pid: number; host: string }): boolean | undefined
}
