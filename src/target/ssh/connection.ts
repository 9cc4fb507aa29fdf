import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { ResultPromise } from 'execa'

import type { SshLocation } from '../../config/types.js'
import type { ErrorCode } from '../../errorCodes.js'
import { EngineUnavailableError } from '../../errors.js'
import { cleanEnv, loadExeca, run as runCommand, type Runner } from '../../docker/runner.js'
import { RemoteShell } from './shell.js'
import { masterArgv, muxForwardArgv, type Forward, sshDestination } from './argv.js'

/** What berth learns about a host once logged in. */
export interface HostSession {
  shell: RemoteShell
  /** The login's uid there: the edge of a blue-green environment needs root (SPEC §9). */
  uid: number
  /** The engine as that host's SSH sessions find it: their DOCKER_HOST, else the default socket. */
  dockerHost: string
  /** The edge's directory there: BERTH_EDGE_DIR of its SSH sessions, else /var/lib/berth-edge. */
  edgeDir: string
}

/** A connection lost while a command ran through it (the master process died, the network went). */
export class ConnectionLostError extends EngineUnavailableError {
  constructor(
    readonly url: string,
    readonly why: string,
    detail?: string,
  ) {
    super(`the SSH connection to ${url} was lost (${why})${detail ? ` ${detail}` : ''}`, undefined, 'CONNECTION_LOST')
  }
}

interface Live {
  master: ResultPromise
  session: HostSession
}

/**
 * SPEC §10: one SSH connection per run and host. A ControlMaster process carries a remote `sh` (berth's
 * reads and writes of the host's files) and every forward: the engine's socket (so each docker call costs
 * what a local one does), probes, the edge's admin socket. Its sockets live in a private directory of this
 * machine. It is started on first use, in its own process group (so a terminal's ^C or hang-up reaches
 * berth, which then still records what it left, rather than the connection), and ends with berth: when
 * berth exits its stdin closes and the remote shell and the master end with it.
 */
export class SshConnection {
  /** This machine's private directory (0700) for the control socket and the forwarded sockets. */
  readonly dir: string
  private live: Promise<Live> | undefined
  /** The current master process, from its start (its login may still be under way). */
  private master: ResultPromise | undefined
  private loggedIn = false
  private readonly forwards = new Map<string, Forward>()
  private closing = false
  /** How many times the connection was lost: a command that saw it change failed because of it. */
  losses = 0
  lastLoss: string | undefined

  constructor(
    readonly location: SshLocation,
    private readonly run: Runner = runCommand,
  ) {
    // Unix socket paths are short (108 bytes): the system's temporary directory, or /tmp when TMPDIR is long.
    const base = tmpdir().length > 60 ? '/tmp' : tmpdir()
    this.dir = mkdtempSync(join(base, 'berth-ssh-'))
    // Also when a signal ends berth (process.exit): the directory holds only sockets of this run.
    process.once('exit', this.removeDir)
  }

  private readonly removeDir = () => rmSync(this.dir, { recursive: true, force: true })

  get controlPath(): string {
    return join(this.dir, 'cm')
  }

  /** The local socket the host's engine is forwarded to. */
  get engineSocket(): string {
    return join(this.dir, 'docker.sock')
  }

  /** The pid of the master process, once connected (tests end it to drop the connection). */
  async masterPid(): Promise<number | undefined> {
    return (await this.live)?.master.pid
  }

  /** Logged in, with the engine's socket forwarded: connects on first use, and again after a loss. */
  async ready(): Promise<HostSession> {
    this.live ??= this.connect()
    const current = this.live
    try {
      return (await current).session
    } catch (error) {
      if (this.live === current) this.live = undefined // the next call tries again
      throw error
    }
  }

  /** A local unix socket that reaches `remote` (a unix socket path, or host:port) from the host's side. */
  async forward(remote: string): Promise<string> {
    const known = this.forwards.get(remote)
    if (known) {
      await this.ready()
      return known.local
    }
    const forward: Forward = { local: join(this.dir, `f${this.forwards.size}.sock`), remote }
    this.forwards.set(remote, forward)
    await this.ready()
    await this.addForward(forward)
    return forward.local
  }

  /**
   * Ends the connection without waiting for it: the remote shell reads the end of its stdin and the master
   * ends with it; a login still under way (a host that drops packets) is stopped rather than waited for.
   */
  async close(): Promise<void> {
    this.closing = true
    const master = this.master
    if (master) {
      if (this.loggedIn) master.stdin?.end()
      else master.kill('SIGTERM')
      master.stdout?.destroy()
      master.stderr?.destroy()
      master.unref()
    }
    process.off('exit', this.removeDir)
    this.removeDir()
  }

  private async connect(): Promise<Live> {
    const { location } = this
    // A master that died (killed, its network gone) leaves its control socket: a new one could not listen there.
    rmSync(this.controlPath, { force: true })
    const [ssh, ...args] = masterArgv(location, this.controlPath)
    const execa = await loadExeca()
    const master = execa(ssh as string, args, {
      env: cleanEnv(process.env),
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      detached: true,
    })
    this.master = master
    this.loggedIn = false
    let stderr = ''
    master.stderr?.setEncoding('utf8')
    master.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    const shell = new RemoteShell(master.stdin!, master.stdout!)
    const exited = master.then((result) => {
      const why = lastLine(stderr) || `ssh exited with ${result.exitCode ?? result.signal ?? 'an error'}`
      shell.fail(new ConnectionLostError(location.url, why))
      if (!this.closing) {
        this.losses++
        this.lastLoss = why
        this.live = undefined
      }
      return why
    })
    const session = await this.login(shell, exited, () => stderr)
    this.loggedIn = true
    const live = { master, session }
    try {
      await this.addForward({ local: this.engineSocket, remote: enginePath(session.dockerHost, location) })
      for (const forward of this.forwards.values()) await this.addForward(forward)
    } catch (error) {
      master.stdin?.end()
      master.kill('SIGTERM')
      throw error
    }
    return live
  }

  /** The first script: who we are there and where its engine is; failing it within connect_timeout is exit 6. */
  private async login(shell: RemoteShell, exited: Promise<string>, stderr: () => string): Promise<HostSession> {
    const { location } = this
    const script = `printf '%s\\n' "$(id -u)" "\${DOCKER_HOST:-unix:///var/run/docker.sock}" "\${BERTH_EDGE_DIR:-/var/lib/berth-edge}"`
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      // ssh's own ConnectTimeout covers the TCP connection; this covers a login that hangs after it.
      timer = setTimeout(() => reject(connectError(location, `no answer within ${location.connectTimeoutMs / 1000}s`, 'HOST_UNREACHABLE')), location.connectTimeoutMs + 1000)
    })
    try {
      // A login that fails ends the master: its stderr says why.
      const failed = exited.then((why) => Promise.reject(classify(location, why, stderr())))
      failed.catch(() => undefined)
      const answer = await Promise.race([shell.exec(script).catch(() => failed), failed, timeout])
      const [uid, dockerHost, edgeDir] = answer.output.trim().split('\n').slice(-3)
      return { shell, uid: Number(uid), dockerHost: dockerHost ?? '', edgeDir: edgeDir ?? '/var/lib/berth-edge' }
    } finally {
      clearTimeout(timer)
    }
  }

  private async addForward(forward: Forward): Promise<void> {
    const result = await this.run(muxForwardArgv(this.location, this.controlPath, forward), { allowFailure: true })
    if (result.exitCode !== 0) {
      throw connectError(this.location, `the forward to ${forward.remote} was refused: ${lastLine(result.stderr)}`, 'HOST_FORWARDING_REFUSED')
    }
  }
}

/** The host side of the engine forward: the socket path of unix://…, or host:port of tcp://…. */
function enginePath(dockerHost: string, location: SshLocation): string {
  if (dockerHost.startsWith('unix://')) return dockerHost.slice('unix://'.length)
  const tcp = /^tcp:\/\/([^/]+)$/.exec(dockerHost)
  if (tcp?.[1]) return tcp[1]
  throw connectError(location, `its engine is ${dockerHost} (DOCKER_HOST of its SSH sessions), which berth cannot forward`, 'HOST_UNREACHABLE')
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  )
}

function connectError(location: SshLocation, what: string, code: ErrorCode): EngineUnavailableError {
  return new EngineUnavailableError(`cannot reach ${location.url}: ${what}`, undefined, code)
}

/** What a failed login's stderr says, in words, with the code whose hint says what to do. */
export function classify(location: SshLocation, why: string, stderr: string): EngineUnavailableError {
  const text = `${stderr}\n${why}`
  const seconds = location.connectTimeoutMs / 1000
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No [A-Z0-9-]+ host key is known/i.test(text)) {
    return connectError(location, `its host key is unknown here or has changed (${lastLine(stderr) || why})`, 'HOST_KEY_UNKNOWN')
  }
  if (/Permission denied|Too many authentication failures/i.test(text)) {
    return connectError(location, `the SSH login of ${sshDestination(location)} was refused (${lastLine(stderr) || why})`, 'HOST_LOGIN_REFUSED')
  }
  if (/timed out/i.test(text)) return connectError(location, `the connection timed out after ${seconds}s`, 'HOST_UNREACHABLE')
  if (/Connection refused/i.test(text)) return connectError(location, 'the connection was refused (is sshd running there, on that port?)', 'HOST_UNREACHABLE')
  if (/Could not resolve hostname/i.test(text)) return connectError(location, `the host name ${location.host} does not resolve`, 'HOST_UNREACHABLE')
  return connectError(location, lastLine(stderr) || why, 'HOST_UNREACHABLE')
}
