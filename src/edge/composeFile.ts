import { dirname, join } from 'node:path'

import { stringify } from 'yaml'

import type { EdgeConfig } from '../config/types.js'
import type { ComposeProject } from '../docker/compose.js'
import { EDGE_LABEL, EDGE_PROJECT, EDGE_VOLUME } from '../names.js'
import type { Deps } from '../run/context.js'
import { legacyEdgeDir } from '../state/paths.js'
import { localFiles } from '../target/files.js'
import { LIVE_ROOT } from './caddy.js'
import type { EdgePaths } from './paths.js'
import { ADMIN_ROOT, initialConfig } from './config.js'

const INITIAL_CONFIG = '/etc/berth-edge/initial.json'
const XDG_CONFIG_HOME = '/data/config'
/** Where Caddy saves every config change, and what `--resume` loads at start. */
export const AUTOSAVE = `${XDG_CONFIG_HOME}/caddy/autosave.json`
const COMPOSE_HEADER = '# The edge proxy of this host (SPEC §9), written by berth: changes made here are overwritten.'

/**
 * The edge's compose file, a pure function of the edge config and its directories. Host networking lets
 * a new listen port be added through the admin API without recreating the container. Caddy autosaves
 * every config change to $XDG_CONFIG_HOME/caddy/autosave.json on the volume and `--resume` loads it at
 * start, so an engine restart brings every route back; `--config` is used only on the very first start,
 * when there is no autosave yet. It carries the admin address (the socket in the mounted admin directory),
 * because Caddy 2.6 ignores CADDY_ADMIN. The initial config is inline (compose `configs.content`, Compose
 * >= 2.23.1), so the edge depends on no file of any app's state directory. The live markers' host
 * directory is mounted read-only: only berth on the host writes it.
 */
export function edgeComposeFile(edge: EdgeConfig, paths: Pick<EdgePaths, 'live' | 'admin'>): string {
  const doc = {
    name: EDGE_PROJECT,
    services: {
      caddy: {
        image: edge.image,
        network_mode: 'host',
        restart: 'unless-stopped',
        // Set here, not left to the image: `caddy:2` has no ENTRYPOINT (caddy is on its PATH), and custom builds
        // often have ENTRYPOINT ["/usr/bin/caddy"], which would run a command that begins with caddy as `caddy caddy …`.
        entrypoint: ['caddy'],
        command: ['run', '--resume', '--config', INITIAL_CONFIG],
        environment: { XDG_CONFIG_HOME, XDG_DATA_HOME: '/data/data' },
        volumes: [
          `${EDGE_VOLUME}:/data`,
          { type: 'bind', source: paths.live, target: LIVE_ROOT, read_only: true },
          { type: 'bind', source: paths.admin, target: ADMIN_ROOT },
        ],
        configs: [{ source: 'initial', target: INITIAL_CONFIG }],
        labels: { [EDGE_LABEL]: 'true' },
      },
    },
    volumes: { [EDGE_VOLUME]: { name: EDGE_VOLUME, labels: { [EDGE_LABEL]: 'true' } } },
    configs: { initial: { content: JSON.stringify(initialConfig()) } },
  }
  return `${COMPOSE_HEADER}\n${stringify(doc)}`
}

/** The edge's compose project on the target's engine, with its files where compose reads them (this machine). */
export function edgeTarget(deps: Pick<Deps, 'target'>, paths: EdgePaths): ComposeProject {
  return { engine: deps.target.engine, project: EDGE_PROJECT, files: [paths.composeFile], envFile: paths.envFile, projectDirectory: dirname(paths.composeFile) }
}

/**
 * An earlier berth kept the edge's compose file in `<state dir>/edge/`, where it made `edge` look like an
 * environment with state; those two files go, and the directory with them unless an environment `edge`
 * keeps its own state there.
 */
export async function removeLegacyEdgeFiles(stateDir: string): Promise<void> {
  const dir = legacyEdgeDir(stateDir)
  const text = (await localFiles.read(join(dir, 'compose.yaml'))) ?? ''
  if (!text.startsWith(COMPOSE_HEADER)) return
  await localFiles.remove(join(dir, 'compose.yaml'))
  await localFiles.remove(join(dir, 'edge.env'))
  await localFiles.removeEmptyDir(dir)
}
