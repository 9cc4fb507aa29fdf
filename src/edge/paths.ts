import { join, resolve } from 'node:path'

/** The edge's files on the host. */
export interface EdgePaths {
  dir: string
  /** The live markers (live.ts), mounted read-only into the edge. */
  live: string
  /** Root's alone (0700): Caddy makes its admin socket there. */
  admin: string
  composeFile: string
  envFile: string
}

/**
 * The edge is one per host, so its files are the host's, not any app's: BERTH_EDGE_DIR, by default
 * /var/lib/berth-edge. Kept out of the apps' state directories, where `<state dir>/edge/` would also be
 * the state of an environment named `edge`. A running edge keeps the directories it was started with, and
 * berth always uses those the running edge mounts.
 */
export function edgePaths(env: NodeJS.ProcessEnv = process.env): EdgePaths {
  const dir = resolve(env.BERTH_EDGE_DIR || '/var/lib/berth-edge')
  return { dir, live: join(dir, 'live'), admin: join(dir, 'admin'), composeFile: join(dir, 'compose.yaml'), envFile: join(dir, 'edge.env') }
}
