import type { Config, EnvironmentConfig } from '../config/types.js'
import { ExitCode } from '../errors.js'
import type { UnmanagedContainer } from '../inspect/unmanaged.js'
import { type Deps, onTarget } from '../run/context.js'
import { environmentsWithState } from '../state/paths.js'
import type { Target } from '../target/target.js'
import type { Check } from './check.js'
import type { NamedDrift } from './checks/drift.js'
import { envFileCheck, readEnvFileMode } from './checks/envFiles.js'
import { engineDoctor, type EngineFindings } from './engineDoctor.js'

export interface DoctorReport {
  app: string
  /** 0: every check ok or warn · 1: a check failed · 6: an engine or Compose v2 is unavailable, or a host cannot be reached. */
  exitCode: number
  /** Each engine's checks, the shell's engine first; those of any other engine name it (`engine`). */
  checks: Check[]
  unmanaged: (UnmanagedContainer & { engine?: string })[]
  drift: NamedDrift[]
}

/**
 * SPEC §4 doctor: host checks, each ok, warn or fail with a hint — per engine (SPEC §10), for the environments
 * deploy.yml runs there, each engine's checks at once. Env files are the operator's, checked once. An engine
 * that does not answer, or a host that cannot be reached, is reported and the other engines still checked.
 */
export async function doctor(config: Config, deps: Deps): Promise<DoctorReport> {
  const envs = [...config.environments.values()]
  const engines = byEngine(deps, envs)
  const [envFiles, found] = await Promise.all([
    Promise.all(envs.map(readEnvFileMode)).then(envFileCheck),
    Promise.all(engines.map(async ([target, here]) => ({ target, ...(await findingsOf(deps, config, target, here)) }))),
  ])
  const named = found.map(({ target, ...f }) => (target === deps.target ? f : onEngine(f, target.description)))
  const checks = named.flatMap((f, i) => (i === 0 ? withEnvFiles(f.checks, envFiles) : f.checks))
  return { app: config.app, exitCode: doctorExitCode(checks), checks, unmanaged: named.flatMap((f) => f.unmanaged), drift: named.flatMap((f) => f.drift) }
}

/** The app's environments grouped by engine, the shell's engine (deps.target) first. */
function byEngine(deps: Deps, envs: readonly EnvironmentConfig[]): [Target, EnvironmentConfig[]][] {
  const engines = new Map<Target, EnvironmentConfig[]>()
  for (const env of envs) engines.set(deps.targetOf(env), [...(engines.get(deps.targetOf(env)) ?? []), env])
  return [...engines].sort(([a], [b]) => Number(b === deps.target) - Number(a === deps.target))
}

async function findingsOf(deps: Deps, config: Config, target: Target, envs: EnvironmentConfig[]): Promise<EngineFindings> {
  const on = onTarget(deps, envs[0] as EnvironmentConfig)
  const local = target === deps.target
  const elsewhere = new Set([...config.environments.values()].filter((env) => deps.targetOf(env) !== target).map((env) => env.name))
  // Its own environments, and any other with state in its store (removed from deploy.yml: its lock and files still count).
  const stateEnvs = async () => [...new Set([...envs.map((e) => e.name), ...(await environmentsWithState(target.state)).filter((e) => !elsewhere.has(e))])].sort()
  return engineDoctor(on, config, { envs, stateEnvs }, local)
}

/** The findings of an engine that is not the shell's, each naming it. */
function onEngine(found: EngineFindings, engine: string): EngineFindings {
  return {
    checks: found.checks.map((c) => ({ ...c, engine })),
    unmanaged: found.unmanaged.map((u) => ({ ...u, engine })),
    drift: found.drift.map((d) => ({ ...d, engine })),
  }
}

/** The env-file check, where it always stood: before the first engine's lock check. */
function withEnvFiles(checks: readonly Check[], envFiles: Check): Check[] {
  const at = checks.findIndex((c) => c.id === 'locks')
  return at === -1 ? [...checks, envFiles] : [...checks.slice(0, at), envFiles, ...checks.slice(at)]
}

/** 6 when an engine or Compose is unavailable (as every command, SPEC §4), else 1 when any check failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => (c.id === 'engine' || c.id === 'compose') && c.status === 'fail')) return ExitCode.engineUnavailable
  return checks.some((c) => c.status === 'fail') ? ExitCode.unexpected : ExitCode.ok
}
