/** Configuration after validation: absolute paths, durations in milliseconds, defaults applied. */

export interface HttpProbe {
  /** May contain ${VAR}, interpolated from the environment's env file when the probe runs. */
  url: string
  /** Expected status; undefined means any 2xx. */
  status?: number
  contains?: string
}

export interface HealthConfig {
  timeoutMs: number
  intervalMs: number
  http: HttpProbe[]
}

export interface EnvironmentConfig {
  name: string
  /** Compose project name: <app>-<env>. */
  project: string
  /** Absolute path. */
  envFile: string
  /** Absolute paths: the top-level files followed by the environment's own. */
  composeFiles: string[]
  required: string[]
  /** Extra keys whose values are secrets besides those matching the SPEC §8 pattern. */
  secrets: string[]
  health: HealthConfig
  confirm: boolean
  keep: number
}

export interface Config {
  app: string
  /** Absolute path of deploy.yml. */
  file: string
  /** Directory of deploy.yml; relative paths inside it are resolved from here. */
  dir: string
  /** Absolute path of the state directory (default <dir>/.berth). */
  stateDir: string
  environments: Map<string, EnvironmentConfig>
}
