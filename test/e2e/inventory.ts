import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'

import { run } from '../../src/docker/runner.js'
import { localTarget } from '../../src/target/local.js'
import { edgePaths } from '../../src/edge/paths.js'
import { edgeStatus } from '../../src/edge/status.js'
import { filesUnder } from './engine.js'

/**
 * What the engines hold that a test could leave behind: containers, networks, volumes, images, the routes of a
 * running edge and the edge's live markers on the host. The suite takes one inventory before its first test (globalSetup.ts) and compares
 * it with one after its last (leftovers.test.ts): anything new is the suite's own leftover.
 */
export interface Inventory {
  containers: string[]
  networks: string[]
  volumes: string[]
  images: string[]
  liveMarkers: string[]
  /** The routes a running edge holds (id and upstreams). */
  edgeRoutes: string[]
}

function lines(args: string[]): string[] {
  const r = spawnSync('docker', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr.trim()}`)
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort()
}

export async function inventory(): Promise<Inventory> {
  const edge = await edgeStatus({ run, target: localTarget({ stateDir: tmpdir() }) })
  return {
    containers: lines(['ps', '--all', '--no-trunc', '--format', '{{.Names}} ({{.Image}}, {{.Label "com.docker.compose.project"}})']),
    networks: lines(['network', 'ls', '--format', '{{.Name}}']),
    volumes: lines(['volume', 'ls', '--format', '{{.Name}}']),
    // Dangling layers are the engine's build cache, not objects of a test: only tagged images count.
    images: lines(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).filter((ref) => !ref.includes('<none>')),
    liveMarkers: filesUnder(edgePaths().live),
    edgeRoutes: (edge.routes ?? []).map((r) => `${r.id} ${JSON.stringify(r.upstreams)}`).sort(),
  }
}

/** What `after` holds that `before` did not, per kind; empty kinds left out. */
export function leftovers(before: Inventory, after: Inventory): Partial<Inventory> {
  const out: Partial<Inventory> = {}
  for (const kind of Object.keys(after) as (keyof Inventory)[]) {
    const added = after[kind].filter((item) => !before[kind].includes(item))
    if (added.length) out[kind] = added
  }
  return out
}
