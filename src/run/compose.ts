import { selectEnvironment } from '../config/load.js'
import type { Config } from '../config/types.js'
import { composePassthrough } from '../docker/compose.js'
import { UsageError } from '../errors.js'
import { type ColourChoice, strategyOf } from '../strategy/strategy.js'
import { checkEngine } from '../target/engine.js'
import type { Deps } from './context.js'
import { masked, type Output, registerEnvSecrets } from './output.js'

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
  const strategy = strategyOf(env)
  if (req.colour && strategy.colours.length === 0) {
    throw new UsageError(`--colour applies to blue-green environments; ${env.name} uses ${env.strategy}`, `Leave it out: berth compose ${env.name} -- ${req.args.join(' ')}`)
  }
  await checkEngine(deps)
  await registerEnvSecrets(env)
  if (BYPASSING.has(subcommand)) {
    deps.reporter.warn(`compose ${subcommand} is not recorded in ${env.name}'s releases or audit log; berth deploy, rollback and down are`)
  }
  const target = await strategy.composeProject(deps, { config: req.config, env, target: deps.target, vars: {} }, req.colour)
  const argv = composePassthrough(target, req.args)
  const interactive = req.terminal && INTERACTIVE.has(subcommand)
  const { exitCode } = await deps.run(argv, interactive ? { inherit: true, allowFailure: true } : { onLine: masked(out), stdinInherit: true, allowFailure: true })
  return { environment: env.name, project: target.project, subcommand, exitCode }
}
