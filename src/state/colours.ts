import * as z from 'zod/mini'

import type { Colour } from '../names.js'
import type { StateStore } from '../target/target.js'
import { readStateFile, type StateFile, unlessMissing, writeStateFile } from './files.js'
import { environmentPaths } from './paths.js'
import { configFileSchema, tagSchema } from './releases.js'

/** SPEC §9 blue-green: which colour is live, which release each colour holds, and the upstream ports of both. */

export interface ColourSlot {
  tag: string
  /** The release's resolved config (in releases/), from which the colour's project file is derived. */
  configFile: string
}

export interface ColourState {
  /** The colour the edge routes to. */
  live?: Colour
  blue?: ColourSlot
  green?: ColourSlot
  /** "<service>:<container port>" → the loopback host port each colour publishes it on, for the edge. */
  upstreams: Record<Colour, Record<string, number>>
}

const colourSchema = z.enum(['blue', 'green'], unlessMissing('expected blue or green'))
const slotSchema = z.looseObject({ tag: tagSchema, configFile: configFileSchema })
const PORT_MESSAGE = 'expected a port number from 1 to 65535'
const portsSchema = z.record(z.string(), z.int(unlessMissing(PORT_MESSAGE)).check(z.gte(1, PORT_MESSAGE), z.lte(65535, PORT_MESSAGE)))

export const COLOUR_FILE: StateFile<ColourState> = {
  schema: z.looseObject({
    live: z.optional(colourSchema),
    blue: z.optional(slotSchema),
    green: z.optional(slotSchema),
    upstreams: z.looseObject({ blue: portsSchema, green: portsSchema }),
  }),
  forgets: 'knows of no live colour: the next deploy brings the release up in blue, as a first deploy does, recreating blue if it runs, and switches the routes to it',
}

export function coloursPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).colours
}

/** A damaged file throws StateDamagedError. */
export async function readColours(store: StateStore, env: string): Promise<ColourState> {
  return (await readStateFile(store.files, coloursPath(store.dir, env), COLOUR_FILE)) ?? { upstreams: { blue: {}, green: {} } }
}

export async function writeColours(store: StateStore, env: string, state: ColourState): Promise<void> {
  await writeStateFile(store.files, coloursPath(store.dir, env), COLOUR_FILE, state)
}
