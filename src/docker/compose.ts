/** Pure builders of `docker compose` argv. Nothing here runs anything. */

import { dockerCli, type Engine } from './engine.js'

export interface ComposeProject {
  /** The engine compose talks to. */
  engine: Engine
  project: string
  /** Absolute compose files, in merge order. */
  files: readonly string[]
  /** Always given, so compose never falls back to a `.env` in the project directory (seed 004). */
  envFile: string
  projectDirectory: string
}

function base(t: ComposeProject): string[] {
  return [
    ...dockerCli(t.engine), 'compose',
    '--project-name', t.project,
    '--project-directory', t.projectDirectory,
    ...t.files.flatMap((f) => ['--file', f]),
    '--env-file', t.envFile,
  ]
}

export function composeConfig(t: ComposeProject, format: 'json' | 'yaml'): string[] {
  return [...base(t), 'config', '--format', format]
}

export function composeBuild(t: ComposeProject, services: readonly string[]): string[] {
  return [...base(t), 'build', ...services]
}

/** Images are built (or promoted) before `up`; `--no-build` makes sure up never builds behind our back. */
export function composeUp(t: ComposeProject): string[] {
  return [...base(t), 'up', '--detach', '--no-build', '--remove-orphans']
}

export function composePs(t: ComposeProject): string[] {
  return [...base(t), 'ps', '--all', '--format', 'json']
}

export function composeLogs(t: ComposeProject, o: { services?: readonly string[]; tail?: number; follow?: boolean }): string[] {
  return [
    ...base(t), 'logs', '--no-color',
    ...(o.tail !== undefined ? ['--tail', String(o.tail)] : []),
    ...(o.follow ? ['--follow'] : []),
    ...(o.services ?? []),
  ]
}

export function composeDown(t: ComposeProject, o: { volumes: boolean }): string[] {
  return [...base(t), 'down', '--remove-orphans', ...(o.volumes ? ['--volumes'] : [])]
}

export function composePassthrough(t: ComposeProject, args: readonly string[]): string[] {
  return [...base(t), ...args]
}

export function composeVersion(engine: Engine): string[] {
  return [...dockerCli(engine), 'compose', 'version', '--format', 'json']
}

/** Stops without removing (blue-green keeps the old colour for a rollback): all of the project, or only `services`. */
export function composeStop(t: ComposeProject, services: readonly string[] = []): string[] {
  return [...base(t), 'stop', ...services]
}

export function composeStart(t: ComposeProject): string[] {
  return [...base(t), 'start']
}
