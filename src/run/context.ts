import { hostname, userInfo } from 'node:os'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import type { Config, EnvironmentConfig } from '../config/types.js'
import type { ComposeTarget } from '../docker/compose.js'
import { psByLabels } from '../docker/docker.js'
import { type Container, parsePs } from '../docker/parse.js'
import { run as defaultRun, type Runner } from '../docker/runner.js'
import type { Reporter } from '../progress.js'
import type { ProbeResult } from '../health/wait.js'
import { probeHttp } from '../health/probe.js'
import type { HttpProbe } from '../config/types.js'
import { configPath } from '../state/paths.js'

/** What a service needs from the outside world; tests replace parts of it. */
export interface Deps {
  run: Runner
  reporter: Reporter
  probe: (probe: HttpProbe) => Promise<ProbeResult>
  sleep: (ms: number) => Promise<void>
  now: () => Date
}

export function defaultDeps(reporter: Reporter): Deps {
  return { run: defaultRun, reporter, probe: (p) => probeHttp(p), sleep: (ms) => sleep(ms), now: () => new Date() }
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

/** The operator's compose files for an environment (used to resolve, validate and build). */
export function sourceTarget(env: EnvironmentConfig, extraFiles: readonly string[] = []): ComposeTarget {
  return { project: env.project, files: [...env.composeFiles, ...extraFiles], envFile: env.envFile, projectDirectory: projectDirectory(env) }
}

/** A release's recorded, resolved config (paths already absolute): what `up` applies, for deploys and rollbacks alike. */
export function releaseTarget(config: Config, env: EnvironmentConfig, configFile: string): ComposeTarget {
  return projectTarget(env, env.project, configPath(config.stateDir, env.name, configFile))
}

/** One resolved compose file applied as a given project of the environment (blue-green runs several). */
export function projectTarget(env: EnvironmentConfig, project: string, file: string): ComposeTarget {
  return { project, files: [file], envFile: env.envFile, projectDirectory: projectDirectory(env) }
}

/** The compose projects an environment runs as: <app>-<env>, and its two colours when blue-green. */
export function environmentProjects(env: EnvironmentConfig): string[] {
  return env.strategy === 'blue-green' ? [env.project, `${env.project}-blue`, `${env.project}-green`] : [env.project]
}

/** One label-filtered query for all of an environment's containers. */
export async function projectContainers(run: Runner, project: string): Promise<Container[]> {
  // oneoff=False: only containers compose created for the services, not `compose run` ones nor a
  // `docker run` of a release image (which inherits the image's project label).
  const { stdout } = await run(psByLabels([`com.docker.compose.project=${project}`, 'com.docker.compose.oneoff=False']))
  return parsePs(stdout)
}
