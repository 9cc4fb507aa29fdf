import { hostname, userInfo } from 'node:os'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import type { EnvironmentConfig } from '../config/types.js'
import type { ComposeProject } from '../docker/compose.js'
import { containerEvents, psByLabels } from '../docker/docker.js'
import { type Container, parsePs } from '../docker/parse.js'
import type { Runner } from '../docker/runner.js'
import type { Reporter } from '../progress.js'
import type { ChangeStream, ProbeResult } from '../health/wait.js'
import type { Target } from '../target/target.js'
import type { HttpProbe } from '../config/types.js'
import { configPath } from '../state/paths.js'

/**
 * What a service needs from the outside world; tests replace parts of it. `run` and `probe` are the target's
 * (where the environment runs); the rest is the operator's side.
 */
export interface Deps {
  /** The target of the environment the command is about (the local one for commands about none). */
  target: Target
  /** Every environment's target (SPEC §10: each may run on its own engine). */
  targetOf: (env: EnvironmentConfig) => Target
  run: Runner
  reporter: Reporter
  probe: (probe: HttpProbe) => Promise<ProbeResult>
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  now: () => Date
}

export function defaultDeps(reporter: Reporter, target: Target, targetOf: (env: EnvironmentConfig) => Target = () => target): Deps {
  return { target, targetOf, run: target.run, reporter, probe: (p) => target.probe(p), sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined).catch(() => undefined), now: () => new Date() }
}

/** The same dependencies, aimed at `env`'s target: its runner and probes follow (unchanged when it is the same target). */
export function onTarget(deps: Deps, env: EnvironmentConfig): Deps {
  const target = deps.targetOf(env)
  if (target === deps.target) return deps
  return { ...deps, target, run: target.run, probe: (p) => target.probe(p) }
}

/** user@host of the operator; through sudo, the person rather than root. */
export function operator(env: NodeJS.ProcessEnv = process.env): string {
  const user = env.SUDO_USER || safeUser()
  return `${user}@${hostname()}`
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

/**
 * Compose resolves relative paths (build contexts, bind mounts) from the project directory, which must
 * therefore be the first compose file's directory, as when compose is run by hand.
 */
function projectDirectory(env: EnvironmentConfig): string {
  return dirname(env.composeFiles[0] as string)
}

/** The operator's compose files for an environment (used to resolve, validate and build), on the target's engine. */
export function sourceProject(deps: Pick<Deps, 'target'>, env: EnvironmentConfig, extraFiles: readonly string[] = []): ComposeProject {
  return { engine: deps.target.engine, project: env.project, files: [...env.composeFiles, ...extraFiles], envFile: env.envFile, projectDirectory: projectDirectory(env) }
}

/** A release's recorded, resolved config (paths already absolute): what `up` applies, for deploys and rollbacks alike. */
export async function releaseProject(deps: Pick<Deps, 'target'>, env: EnvironmentConfig, configFile: string): Promise<ComposeProject> {
  const { state } = deps.target
  return fileProject(deps, env, env.project, await state.localPath(configPath(state.dir, env.name, configFile)))
}

/** One resolved compose file applied as a given project of the environment (blue-green runs several). */
export function fileProject(deps: Pick<Deps, 'target'>, env: EnvironmentConfig, project: string, file: string): ComposeProject {
  return { engine: deps.target.engine, project, files: [file], envFile: env.envFile, projectDirectory: projectDirectory(env) }
}

/** One label-filtered query for all of a project's containers on the target. */
export async function projectContainers(deps: Pick<Deps, 'run' | 'target'>, project: string): Promise<Container[]> {
  const { labels, engine } = deps.target
  // managed (compose's oneoff=False): only containers compose created for the services, not `compose run`
  // ones nor a `docker run` of a release image (which inherits the image's project label).
  const { stdout } = await deps.run(psByLabels(engine, [`${labels.project}=${project}`, ...(labels.managed ? [`${labels.managed.label}=${labels.managed.value}`] : [])]))
  return parsePs(stdout, deps.target.labels)
}

/**
 * The engine's events of a project's containers (created, started, died, health changed, …) as they happen:
 * `onChange` at each. The stream goes on until `stop()`; `ended` settles when it ends for any reason.
 */
export function watchProject(deps: Pick<Deps, 'run' | 'target'>, project: string, onChange: () => void): ChangeStream {
  const { labels, engine } = deps.target
  const stop = new AbortController()
  const ended = deps
    .run(containerEvents(engine, [`${labels.project}=${project}`]), {
      onLine: (line, stream) => {
        if (stream === 'stdout' && line.trim() !== '') onChange()
      },
      signal: stop.signal,
      allowFailure: true,
    })
    .catch(() => undefined)
  return { ended, stop: () => stop.abort() }
}
