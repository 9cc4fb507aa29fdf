import { join } from 'node:path'
import type { Colour } from '../names.js'
import type { StateStore } from '../target/target.js'


/**
 * The whole state layout (SPEC §7), in one place: what berth keeps of an environment under
 * <state dir>/<env>/. Every module that touches the state directory takes its paths from here.
 *
 *   releases.json                       release records, newest first (and releases.json.last-good)
 *   releases/<tag>.<id>.compose.yaml    the resolved config each release applied
 *   colours.json                        blue-green: the live colour, what each colour holds, upstream ports
 *   audit.log                           one JSON line per deploy, rollback, down, lock, unlock
 *   preview.json                        a preview environment (SPEC §11): its pattern, when it was made and last deployed, its ports
 *   lock                                present while a run (or a hold by hand) holds the environment
 *   work/                               generated files: the release override, the stateful and colour projects' files
 */
export interface EnvironmentPaths {
  dir: string
  releases: string
  configs: string
  colours: string
  audit: string
  /** A preview environment's record (SPEC §11). */
  preview: string
  lock: string
  work: string
  /** The override a release is resolved and built with. */
  override: string
  /** blue-green: the stateful project's compose file. */
  statefulFile: string
}

export function environmentPaths(stateDir: string, env: string): EnvironmentPaths {
  const dir = join(stateDir, env)
  const work = join(dir, 'work')
  return {
    dir,
    releases: join(dir, 'releases.json'),
    configs: join(dir, 'releases'),
    colours: join(dir, 'colours.json'),
    audit: join(dir, 'audit.log'),
    preview: join(dir, 'preview.json'),
    lock: join(dir, 'lock'),
    work,
    override: join(work, 'override.yaml'),
    statefulFile: join(work, 'stateful.compose.yaml'),
  }
}

/** A release's resolved config, by the file name its record holds. */
export function configPath(stateDir: string, env: string, configFile: string): string {
  return join(environmentPaths(stateDir, env).configs, configFile)
}

/** blue-green: the compose file a colour's project was last applied with. */
export function colourFile(stateDir: string, env: string, colour: Colour): string {
  return join(environmentPaths(stateDir, env).work, `${colour}.compose.yaml`)
}

/** What berth keeps beside a JSON state file it writes: the same content, restored with one cp when the file is damaged. */
export function lastGoodPath(path: string): string {
  return `${path}.last-good`
}

/** Where an earlier berth kept the edge's compose file, inside an app's state directory. */
export function legacyEdgeDir(stateDir: string): string {
  return join(stateDir, 'edge')
}

/** Environments that have state, whether or not deploy.yml still names them (their images stay protected). */
export async function environmentsWithState(store: StateStore): Promise<string[]> {
  // A dot directory is no environment: .remote/ holds an SSH target's local working copies (target/ssh/target.ts).
  return (await store.files.list(store.dir)).filter((e) => e.isDirectory && !e.name.startsWith('.')).map((e) => e.name).sort()
}
