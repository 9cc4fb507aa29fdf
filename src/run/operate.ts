import { access } from 'node:fs/promises'

import { readEnvFile } from '../config/envFile.js'
import { selectEnvironment } from '../config/load.js'
import type { Config, EnvironmentConfig } from '../config/types.js'
import { type ComposeProject, composeDown, composeLogs, composePassthrough } from '../docker/compose.js'
import { PreflightError, UsageError } from '../errors.js'
import { mask } from '../secrets.js'
import { recordedModel } from '../health/gate.js'
import { blueGreenComposeTarget, type ColourChoice, downColours, edgePreflight, servingTargets } from '../strategy/blueGreen/apply.js'
import { type Deps, projectContainers, releaseProject, sourceProject } from './context.js'
import { checkEngine } from '../target/engine.js'
import { lockedRun } from './lockedRun.js'
import { resolveModel } from '../release/prepare.js'
import { findActive, readReleases, type ReleaseRecord, setStatus, writeReleases } from '../state/releases.js'
import { refuseDamagedState } from '../state/damage.js'
import { configPath } from '../state/paths.js'

/** logs, compose and down (SPEC §4): operating an environment that deploy brought up. */

/** Where masked output lines go: the command decides (stdout/stderr, or collected for --json). */
export interface Output {
  stdout(line: string): void
  stderr(line: string): void
}

/**
 * Registers the env file's secret values for masking (SPEC §8; readEnvFile does the registering).
 * `required` is a deploy precondition, not one of reading logs or stopping: a variable missing from the env
 * file must not lock the operator out of `logs`, `down` or `compose -- config`.
 */
async function registerEnvSecrets(env: EnvironmentConfig): Promise<void> {
  await readEnvFile({ ...env, required: [] })
}

/** Terminal control sequences (CSI): compose prefixes log lines with an erase-line even with --no-color. */
const CONTROL_SEQUENCE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g

export function plainLine(line: string): string {
  return line.replace(CONTROL_SEQUENCE, '')
}

function masked(out: Output, transform: (line: string) => string = (line) => line): (line: string, stream: 'stdout' | 'stderr') => void {
  return (line, stream) => out[stream](mask(transform(line)))
}

/**
 * The compose files of what runs now: the active release's recorded config (the operator's files may have
 * changed since), or the operator's files when nothing is recorded or the record's file is gone.
 */
async function runningTarget(
  deps: Pick<Deps, 'target'>,
  config: Config,
  env: EnvironmentConfig,
  releases: readonly ReleaseRecord[],
): Promise<{ target: ComposeProject; active?: ReleaseRecord; recorded: boolean }> {
  const active = findActive(releases)
  if (!active) return { target: sourceProject(deps, env), recorded: false }
  try {
    await access(configPath(config.stateDir, env.name, active.configFile))
  } catch {
    return { target: sourceProject(deps, env), active, recorded: false }
  }
  return { target: releaseProject(deps, config, env, active.configFile), active, recorded: true }
}

export interface LogsRequest {
  config: Config
  envName: string
  service?: string
  follow: boolean
  tail?: number
}

export interface LogsResult {
  environment: string
  project: string
  release?: string
  /** Containers the project had when the logs were read. */
  containers: number
}

/** SPEC §4 logs: `compose logs` of the running release, every line masked before it is shown. */
export async function logs(req: LogsRequest, deps: Deps, out: Output): Promise<LogsResult> {
  const env = selectEnvironment(req.config, req.envName)
  await checkEngine(deps)
  await registerEnvSecrets(env)
  const releases = await readReleases(req.config.stateDir, env.name)
  const { target, active, recorded } = await runningTarget(deps, req.config, env, releases)
  if (req.service !== undefined) {
    const model = active && recorded ? await recordedModel({ config: req.config, env }, active) : await resolveModel(deps, env)
    const services = Object.keys(model.services).sort()
    if (!services.includes(req.service)) {
      throw new UsageError(`${env.name} has no service ${JSON.stringify(req.service)}`, `Services of ${env.name}: ${services.join(', ')}`, 'UNKNOWN_SERVICE')
    }
  }
  const result = { environment: env.name, project: env.project, ...(active ? { release: active.tag } : {}) }
  // A blue-green environment serves from its stateful project and its live colour: both are read, at once.
  const targets =
    env.strategy === 'blue-green'
      ? (await servingTargets({ config: req.config, env, target: deps.target, vars: {} })).filter((t) => req.service === undefined || t.services.includes(req.service)).map((t) => t.target)
      : [target]
  const containers = (await Promise.all(targets.map((t) => projectContainers(deps, t.project)))).flat()
  if (containers.length === 0) {
    deps.reporter.warn(`${env.name} has no containers (${env.project} was never deployed, or was stopped with berth down)`)
    return { ...result, containers: 0 }
  }
  const options = { ...(req.service ? { services: [req.service] } : {}), ...(req.tail !== undefined ? { tail: req.tail } : {}), follow: req.follow }
  // SPEC §8: plain lines without escape codes; the container's own colours go too (compose's --no-color only drops its own).
  await Promise.all(targets.map((t) => deps.run(composeLogs(t, options), { onLine: masked(out, plainLine) })))
  return { ...result, containers: containers.length }
}

/** Compose's global options that pick the project, files or env file: berth sets those, per environment. */
const TARGETING_OPTION = /^(?:-p|--project-name|-f|--file|--env-file|--project-directory)(?:=|$)|^-[pf]./
/** Compose's global options that take a value as the next argument. */
const VALUE_OPTIONS = new Set(['--ansi', '--env-file', '-f', '--file', '--parallel', '--profile', '--progress', '--project-directory', '-p', '--project-name'])
/** Subcommands that attach the terminal to a container: on a terminal they get it whole. */
const INTERACTIVE = new Set(['exec', 'run', 'attach'])
/** Subcommands that change what runs behind berth's release records and audit log. */
const BYPASSING = new Set(['up', 'down', 'create', 'rm', 'scale'])

/**
 * The compose subcommand of passthrough arguments, after any global options. Options that would point
 * compose at another project, file set or env file are refused: they would break isolation (SPEC §7).
 */
export function composeSubcommand(args: readonly string[]): string {
  if (args.length === 0) throw new UsageError('no compose command given', 'Give it after --, for example: berth compose staging -- ps', 'USAGE')
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (!arg.startsWith('-')) return arg
    if (TARGETING_OPTION.test(arg)) {
      throw new UsageError(
        `${arg} would point compose at another project or other files; berth sets the project, files and env file of the environment`,
        'Use berth compose OTHER_ENV -- … for another environment.',
        'COMPOSE_RETARGET',
      )
    }
    if (VALUE_OPTIONS.has(arg)) i++
  }
  throw new UsageError(`no compose command in ${JSON.stringify(args.join(' '))}`, 'Give one after --, for example: berth compose staging -- ps', 'USAGE')
}

export interface ComposeRequest {
  config: Config
  envName: string
  /** Everything after `--`. */
  args: readonly string[]
  /** stdin and stdout are a terminal: a person can use an interactive exec or run. */
  terminal: boolean
  /** Blue-green only: address this colour's project instead of the stateful one. */
  colour?: ColourChoice
}

export interface ComposeResult {
  environment: string
  project: string
  subcommand: string
  /** Compose's own exit code, which berth exits with. */
  exitCode: number
}

/**
 * SPEC §4 compose: any compose command on the environment's project, files and env file. Output is masked
 * line by line, except an interactive exec/run/attach on a terminal, which gets the terminal itself (the
 * person at it can read the container's environment anyway).
 */
export async function compose(req: ComposeRequest, deps: Deps, out: Output): Promise<ComposeResult> {
  const env = selectEnvironment(req.config, req.envName)
  const subcommand = composeSubcommand(req.args)
  if (req.colour && env.strategy !== 'blue-green') {
    throw new UsageError(`--colour applies to blue-green environments; ${env.name} uses ${env.strategy}`, `Leave it out: berth compose ${env.name} -- ${req.args.join(' ')}`)
  }
  await checkEngine(deps)
  await registerEnvSecrets(env)
  if (BYPASSING.has(subcommand)) {
    deps.reporter.warn(`compose ${subcommand} is not recorded in ${env.name}'s releases or audit log; berth deploy, rollback and down are`)
  }
  const target = env.strategy === 'blue-green' ? await blueGreenComposeTarget({ config: req.config, env, target: deps.target, vars: {} }, req.colour) : sourceProject(deps, env)
  const argv = composePassthrough(target, req.args)
  const interactive = req.terminal && INTERACTIVE.has(subcommand)
  const { exitCode } = await deps.run(argv, interactive ? { inherit: true, allowFailure: true } : { onLine: masked(out), stdinInherit: true, allowFailure: true })
  return { environment: env.name, project: target.project, subcommand, exitCode }
}

export interface DownRequest {
  config: Config
  envName: string
  volumes: boolean
  /** Asked before anything changes when the environment has `confirm: true`. */
  confirm: (question: string) => Promise<boolean>
  /** The command line, recorded in the lock. */
  command: string
}

export interface DownResult {
  environment: string
  project: string
  /** The release that was running, now recorded as the previous one. */
  release?: string
  /** Names of the containers removed. */
  containers: string[]
  volumes: boolean
  durationMs: number
}

/**
 * SPEC §4 down: `compose down` of this environment's project only, as a locked, audited run. The active release
 * stops being active and, as the newest once-active release, becomes `previous`: `status` shows nothing
 * deployed, `berth rollback ENV` brings it back, and a later deploy has nothing to roll back to but
 * itself. Named volumes are kept unless --volumes.
 */
export async function down(req: DownRequest, deps: Deps): Promise<DownResult> {
  const started = deps.now()
  const env = selectEnvironment(req.config, req.envName)
  await checkEngine(deps)
  await registerEnvSecrets(env)
  await refuseDamagedState(req.config, env)
  await edgePreflight(deps, req.config, env)
  const running = findActive(await readReleases(req.config.stateDir, env.name))
  const what = `${env.project}${running ? ` (release ${running.tag})` : ''}`
  if (env.confirm && !(await req.confirm(`Stop and remove ${what}${req.volumes ? ' and delete its volumes' : ''}?`))) {
    throw new PreflightError(`down of ${env.name} was not confirmed; nothing was changed`, undefined, 'NOT_CONFIRMED')
  }
  return lockedRun({ config: req.config, env, action: 'down', command: req.command, deps }, async (progress) => {
    // Read again under the lock: a deploy may have finished since the question was asked.
    const releases = await readReleases(req.config.stateDir, env.name)
    const { target, active } = await runningTarget(deps, req.config, env, releases)
    if (active) progress.tag = active.tag
    progress.onInterrupt = async () =>
      `${env.project} may be partly stopped${active ? ` and the records still name ${active.tag} as active` : ''}: run berth down ${env.name} again`
    const containers = (await projectContainers(deps, env.project)).map((c) => c.name).sort()
    await deps.reporter.step(`stop and remove ${env.project}${req.volumes ? ' with its volumes' : ''}`, async () => {
      // Colours first: they use the stateful project's networks, which compose removes last.
      if (env.strategy === 'blue-green') await downColours(deps, { config: req.config, env, target: deps.target, vars: {} }, req.volumes)
      await deps.run(composeDown(target, { volumes: req.volumes }))
    })
    if (active) await writeReleases(req.config.stateDir, env.name, setStatus(releases, active.tag, 'superseded'))
    const durationMs = deps.now().getTime() - started.getTime()
    return { environment: env.name, project: env.project, ...(active ? { release: active.tag } : {}), containers, volumes: req.volumes, durationMs }
  })
}
