import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'

import { run } from '../../src/docker/runner.js'
import { localTarget } from '../../src/target/local.js'
import { edgePaths } from '../../src/edge/paths.js'
import { edgeStatus } from '../../src/edge/status.js'
import { filesUnder } from './engine.js'
import { HOST_B_SOCKET, HOST_STATE_ROOT, REGISTRY_ROOT_B } from './hostB.js'

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
  /** The second host's engine (hostB.ts), when it runs: its objects, prefixed "host B". */
  hostB: string[]
  /** Apps' state on ssh:// hosts (/var/lib/berth/<app>, on the file system the second host shares). */
  hostState: string[]
}

function lines(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const r = spawnSync('docker', args, { encoding: 'utf8', env })
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
    hostB: hostBInventory(),
    hostState: existsSync(HOST_STATE_ROOT) ? readdirSync(HOST_STATE_ROOT).sort() : [],
  }
}

function hostBInventory(): string[] {
  const env = { ...process.env, DOCKER_HOST: HOST_B_SOCKET }
  if (spawnSync('docker', ['info'], { env, stdio: 'ignore' }).status !== 0) return []
  const edgeDir = '/var/lib/berth-host-b/edge/live'
  return [
    ...lines(['ps', '--all', '--no-trunc', '--format', 'container {{.Names}} ({{.Image}})'], env),
    ...lines(['network', 'ls', '--format', 'network {{.Name}}'], env),
    ...lines(['volume', 'ls', '--format', 'volume {{.Name}}'], env),
    ...lines(['image', 'ls', '--format', 'image {{.Repository}}:{{.Tag}}'], env).filter((ref) => !ref.includes('<none>')),
    ...lines(['service', 'ls', '--format', 'service {{.Name}}'], env),
    ...filesUnder(edgeDir).map((f) => `live marker ${f}`),
    ...registryRepositories().map((r) => `registry repository ${r}`),
  ].map((item) => `host B ${item}`)
}

/** The repositories in the second host's registry (its storage on this machine's disk). */
function registryRepositories(): string[] {
  const root = join(REGISTRY_ROOT_B, 'docker', 'registry', 'v2', 'repositories')
  return existsSync(root) ? readdirSync(root).sort() : []
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
