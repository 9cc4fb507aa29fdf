/** Pure builders of `docker compose` argv. Nothing here runs anything. */

export interface ComposeTarget {
  project: string
  /** Absolute compose files, in merge order. */
  files: readonly string[]
  /** Always given, so compose never falls back to a `.env` in the project directory (seed 004). */
  envFile: string
  projectDirectory: string
}

function base(t: ComposeTarget): string[] {
  return [
    'docker', 'compose',
    '--project-name', t.project,
    '--project-directory', t.projectDirectory,
    ...t.files.flatMap((f) => ['--file', f]),
    '--env-file', t.envFile,
  ]
}

export function composeConfig(t: ComposeTarget, format: 'json' | 'yaml'): string[] {
  return [...base(t), 'config', '--format', format]
}

export function composeBuild(t: ComposeTarget, services: readonly string[]): string[] {
  return [...base(t), 'build', ...services]
}

/** Images are built (or promoted) before `up`; `--no-build` makes sure up never builds behind our back. */
export function composeUp(t: ComposeTarget): string[] {
  return [...base(t), 'up', '--detach', '--no-build', '--remove-orphans']
}

export function composePs(t: ComposeTarget): string[] {
  return [...base(t), 'ps', '--all', '--format', 'json']
}

export function composeLogs(t: ComposeTarget, o: { services?: readonly string[]; tail?: number; follow?: boolean }): string[] {
  return [
    ...base(t), 'logs', '--no-color',
    ...(o.tail !== undefined ? ['--tail', String(o.tail)] : []),
    ...(o.follow ? ['--follow'] : []),
    ...(o.services ?? []),
  ]
}

export function composeDown(t: ComposeTarget, o: { volumes: boolean }): string[] {
  return [...base(t), 'down', '--remove-orphans', ...(o.volumes ? ['--volumes'] : [])]
}

export function composePassthrough(t: ComposeTarget, args: readonly string[]): string[] {
  return [...base(t), ...args]
}

export function composeVersion(): string[] {
  return ['docker', 'compose', 'version', '--format', 'json']
}

/** Stops without removing: blue-green keeps the old colour stopped-warm for an instant rollback. */
export function composeStop(t: ComposeTarget): string[] {
  return [...base(t), 'stop']
}

export function composeStart(t: ComposeTarget): string[] {
  return [...base(t), 'start']
}
