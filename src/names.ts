import type { LabelScheme } from './docker/parse.js'

/**
 * One place for every name berth gives or reads on an engine: compose projects and colour projects, the edge's
 * project, volume and label, berth's own labels (a public contract, SPEC §3) and compose's.
 */

/** SPEC §3: on every image berth builds and every container it starts. */
export const LABEL = {
  app: 'berth.app',
  env: 'berth.env',
  release: 'berth.release',
  service: 'berth.service',
  git: 'berth.git',
} as const

/** Labels compose puts on every container it creates (docker/compose pkg/api/labels.go). */
export const COMPOSE_LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  configHash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  version: 'com.docker.compose.version',
} as const

/** Labels Swarm puts on a stack's services, networks, volumes and task containers (docker/cli's stack convert). */
export const SWARM_LABEL = {
  stack: 'com.docker.stack.namespace',
  task: 'com.docker.swarm.task.id',
} as const

/** How a stack's task containers are told apart: the stack's namespace and the service berth labels them with. */
export const SWARM_SCHEME: LabelScheme = { project: SWARM_LABEL.stack, service: LABEL.service }

/** How containers of compose projects are told apart (the local compose target's label scheme). */
export const COMPOSE_SCHEME: LabelScheme = { project: COMPOSE_LABEL.project, service: COMPOSE_LABEL.service, managed: { label: COMPOSE_LABEL.oneoff, value: 'False' } }

/** On a blue-green colour's containers: which colour they are. */
export const COLOUR_LABEL = 'berth.colour'

/** SPEC §9: the host's edge proxy, one per host, shared by every app and environment. */
export const EDGE_PROJECT = 'berth-edge'
export const EDGE_VOLUME = 'berth-edge-data'
export const EDGE_LABEL = 'berth.edge'

/** SPEC §2: each environment runs as the compose project <app>-<env>. */
export function projectName(app: string, env: string): string {
  return `${app}-${env}`
}

/** SPEC §9: a blue-green environment's stateless services run twice, as <app>-<env>-blue and <app>-<env>-green. */
export type Colour = 'blue' | 'green'
export const COLOURS: readonly Colour[] = ['blue', 'green']

export function otherColour(c: Colour): Colour {
  return c === 'blue' ? 'green' : 'blue'
}

export function colourProject(env: { project: string }, c: Colour): string {
  return `${env.project}-${c}`
}
