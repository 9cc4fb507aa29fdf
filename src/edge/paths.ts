import { join } from 'node:path'

import { localEdgeDir } from '../target/local.js'
import type { HostFiles } from '../target/target.js'

/** The edge's files. */
export interface EdgePaths {
  /** The edge's directory on its host. */
  dir: string
  /** The live markers (live.ts), on the host, mounted read-only into the edge. */
  live: string
  /** On the host, root's alone (0700): Caddy makes its admin socket there. */
  admin: string
  /** The compose file and env file compose reads: on this machine, in the edge's directory when the host is this machine. */
  composeFile: string
  envFile: string
}

/**
 * The edge is one per host, so its files are the host's, not any app's: BERTH_EDGE_DIR, by default
 * /var/lib/berth-edge. Kept out of the apps' state directories, where `<state dir>/edge/` would also be
 * the state of an environment named `edge`. A running edge keeps the directories it was started with, and
 * berth always uses those the running edge mounts.
 */
export function edgePathsIn(dir: string, workDir: string = dir): EdgePaths {
  return { dir, live: join(dir, 'live'), admin: join(dir, 'admin'), composeFile: join(workDir, 'compose.yaml'), envFile: join(workDir, 'edge.env') }
}

/** The edge's files of this machine's engine (BERTH_EDGE_DIR of `env`). */
export function edgePaths(env: NodeJS.ProcessEnv = process.env): EdgePaths {
  return edgePathsIn(localEdgeDir(env))
}

/** The edge's files of a target's host: its edge directory there, and its compose files where compose reads them (edgeWorkDir, when the host is another). */
export async function hostEdgePaths(host: Pick<HostFiles, 'edgeDir' | 'edgeWorkDir'>): Promise<EdgePaths> {
  const dir = await host.edgeDir()
  return edgePathsIn(dir, host.edgeWorkDir ?? dir)
}
