import { readEnvFile } from '../config/envFile.js'
import type { EnvironmentConfig } from '../config/types.js'
import type { ComposeProject } from '../docker/compose.js'
import { mask } from '../secrets.js'
import { configPath } from '../state/paths.js'
import { findActive, type ReleaseRecord } from '../state/releases.js'
import { type Deps, releaseProject, sourceProject } from './context.js'

/** What logs, compose and down (SPEC §4) share: masked output, the env file's secrets, the project that runs now. */

/** Where masked output lines go: the command decides (stdout/stderr, or collected for --json). */
export interface Output {
  stdout(line: string): void
  stderr(line: string): void
}

/**
 * Registers the env file's secret values for masking (SPEC §8; readEnvFile does the registering).
 * `required` (and what notify URLs use) is a deploy precondition, not one of reading logs or stopping: a
 * variable missing from the env file must not lock the operator out of `logs`, `down` or `compose -- config`.
 */
export async function registerEnvSecrets(env: EnvironmentConfig): Promise<void> {
  await readEnvFile(env, { preconditions: false })
}

/** Terminal control sequences (CSI): compose prefixes log lines with an erase-line even with --no-color. */
const CONTROL_SEQUENCE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g

export function plainLine(line: string): string {
  return line.replace(CONTROL_SEQUENCE, '')
}

export function masked(out: Output, transform: (line: string) => string = (line) => line): (line: string, stream: 'stdout' | 'stderr') => void {
  return (line, stream) => out[stream](mask(transform(line)))
}

/**
 * The compose files of what runs now: the active release's recorded config (the operator's files may have
 * changed since), or the operator's files when nothing is recorded or the record's file is gone.
 */
export async function runningProject(
  deps: Pick<Deps, 'target'>,
  env: EnvironmentConfig,
  releases: readonly ReleaseRecord[],
): Promise<{ target: ComposeProject; active?: ReleaseRecord; recorded: boolean }> {
  const active = findActive(releases)
  if (!active) return { target: sourceProject(deps, env), recorded: false }
  const { state } = deps.target
  const kept = await state.files.stat(configPath(state.dir, env.name, active.configFile)).catch(() => undefined)
  if (!kept) return { target: sourceProject(deps, env), active, recorded: false }
  return { target: await releaseProject(deps, env, active.configFile), active, recorded: true }
}
