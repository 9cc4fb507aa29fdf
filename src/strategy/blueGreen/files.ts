import type { ComposeProject } from '../../docker/compose.js'
import { type Env, recordedConfig as readStateText } from '../../health/gate.js'
import { type Colour, colourProject } from '../../names.js'
import { fileProject } from '../../run/context.js'
import { localFiles } from '../../target/files.js'
import { colourFile as colourFilePath, environmentPaths } from '../../state/paths.js'
import type { ComposeModel } from '../../release/model.js'
import type { ReleaseRecord } from '../../state/releases.js'
import { type SplitConfig, splitConfig } from './colours.js'

/**
 * The compose files a blue-green environment is applied with, generated in <state>/<env>/work from a release's
 * resolved config: the stateful project's, and each colour's.
 */

export function statefulFile(e: Env): string {
  return environmentPaths(e.target.state.workDir, e.env.name).statefulFile
}

/** The stateful project, <app>-<env>, with its generated file. */
export function statefulProject(e: Env): ComposeProject {
  return fileProject(e, e.env, e.env.project, statefulFile(e))
}

export function colourFile(e: Env, colour: Colour): string {
  return colourFilePath(e.target.state.workDir, e.env.name, colour)
}

/** A colour's project with the file it was last applied with. */
export function colourFileProject(e: Env, colour: Colour): ComposeProject {
  return fileProject(e, e.env, colourProject(e.env, colour), colourFile(e, colour))
}

/** Writes a colour's file for a release and returns its project. */
export async function writeColourFile(e: Env, colour: Colour, tag: string, content: string): Promise<ComposeProject> {
  await localFiles.writeAtomic(colourFile(e, colour), `# berth ${e.env.name} release ${tag}, ${colour}\n${content}`)
  return colourFileProject(e, colour)
}

/**
 * A release's resolved config split into the stateful project's and one colour's; `model`, when the caller has
 * parsed the record already (recordedModel), saves reading and parsing it again.
 */
export async function splitRelease(e: Env, record: Pick<ReleaseRecord, 'configFile'>, colour: Colour, upstreams: Record<string, number>, model?: ComposeModel): Promise<SplitConfig> {
  return splitConfig(model ?? (await readStateText(e, record)), e.env, colour, upstreams)
}
