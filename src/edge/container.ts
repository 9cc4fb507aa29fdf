import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { containerLogs, copyFromContainer, inspectMounts, psByLabels } from '../docker/docker.js'
import { type Container, type ContainerState, parsePs } from '../docker/parse.js'
import { EDGE_LABEL, EDGE_PROJECT, EDGE_VOLUME } from '../names.js'
import type { Deps } from '../run/context.js'
import { mask } from '../secrets.js'
import type { Files } from '../target/files.js'
import { LIVE_ROOT } from './caddy.js'
import { AUTOSAVE } from './composeFile.js'
import { EdgeStartError, EdgeStateError } from './errors.js'
import { ADMIN_ROOT } from './config.js'

/** The edge's container as the engine shows it: found by its project and label, its mounts, its saved config, its logs. */

/** What reads the edge's engine: its runner and the target it runs on. */
export type EngineDeps = Pick<Deps, 'run' | 'target'>

const LOG_LINES = 20

async function edgeContainers(deps: EngineDeps): Promise<Container[]> {
  const { stdout } = await deps.run(psByLabels(deps.target.engine, [`${deps.target.labels.project}=${EDGE_PROJECT}`, `${EDGE_LABEL}=true`]))
  return parsePs(stdout, deps.target.labels)
}

/** The edge's container: the running one, else any (stopped, restarting). */
export async function edgeContainer(deps: EngineDeps): Promise<Container | undefined> {
  const containers = await edgeContainers(deps)
  return containers.find((c) => c.state === 'running') ?? containers[0]
}

/** How long a run takes the edge it found running, and its mounts, as still so (see runningEdge). */
const SEEN_MS = 2000
const seen = new WeakMap<object, { at: number; container: Container; mounts: EdgeMounts }>()

/**
 * The edge's container and mounts, read once for the checks before a change and the switch that follows
 * within SEEN_MS (an instant rollback must not read them twice). Only a running edge is remembered, and
 * forgetEdge drops it once berth starts or recreates the edge.
 */
export async function runningEdge(deps: EngineDeps): Promise<{ container: Container | undefined; mounts: EdgeMounts }> {
  const hit = seen.get(deps.target)
  if (hit && performance.now() - hit.at < SEEN_MS) return hit
  const container = await edgeContainer(deps)
  const mounts = container?.state === 'running' ? await edgeMounts(deps, container.id) : {}
  if (container?.state === 'running') seen.set(deps.target, { at: performance.now(), container, mounts })
  return { container, mounts }
}

/** Whether runningEdge would answer from what this run read a moment ago. */
export function rememberedEdge(deps: EngineDeps): boolean {
  const hit = seen.get(deps.target)
  return hit !== undefined && performance.now() - hit.at < SEEN_MS
}

export function forgetEdge(deps: EngineDeps): void {
  seen.delete(deps.target)
}

/** Host directories a container mounts at the live and admin roots. */
export interface EdgeMounts {
  live?: string
  admin?: string
}

/** Each mounted host directory that is no longer there: one removed after the edge started hides the live markers (or the socket) from it. */
export async function mountDamage(files: Files, mounts: EdgeMounts): Promise<string[]> {
  const out: string[] = []
  for (const [what, dir] of [['live', mounts.live], ['admin', mounts.admin]] as const) {
    if (!dir) continue
    const st = await files.stat(dir).catch(() => undefined)
    if (!st?.isDirectory) out.push(`the edge mounts ${dir} as its ${what} directory, which is ${st ? 'not a directory' : 'gone'} on this host`)
  }
  return out
}

export async function edgeMounts(deps: EngineDeps, id: string): Promise<EdgeMounts> {
  const { stdout } = await deps.run(inspectMounts(deps.target.engine, id))
  const mounts = JSON.parse(stdout.trim() || '[]') as { Type?: string; Source?: string; Destination?: string }[]
  const source = (root: string) => mounts.find((m) => m.Type === 'bind' && m.Destination === root)?.Source
  const live = source(LIVE_ROOT)
  const admin = source(ADMIN_ROOT)
  return { ...(live ? { live } : {}), ...(admin ? { admin } : {}) }
}

export async function startFailure(deps: EngineDeps, container: Container, state: ContainerState): Promise<EdgeStartError> {
  const logs = await deps.run(containerLogs(deps.target.engine, container.id, LOG_LINES), { allowFailure: true })
  const lines = `${logs.stdout}\n${logs.stderr}`.split('\n').filter((l) => l.trim() !== '').slice(-LOG_LINES)
  // Caught running between two restarts, the state's exit code is the current run's (0): only a restarting one tells the last.
  const exit = state.status === 'restarting' ? `exit code ${state.exitCode}, ` : ''
  const what =
    state.status === 'restarting' || state.status === 'running'
      ? `keeps restarting (${exit}restarted ${state.restarts} time${state.restarts === 1 ? '' : 's'})`
      : state.status === 'exited'
        ? `exited with code ${state.exitCode}`
        : `is ${state.status}`
  return new EdgeStartError(
    mask(`the edge proxy's container ${container.name} (${container.image}) ${what} before its admin API answered; its last log lines:\n${lines.map((l) => `  ${l}`).join('\n') || '  (none)'}`),
    `edge.image must be a Caddy 2 image with caddy on its PATH: berth runs it as \`caddy run --resume --config …\`, whatever its ENTRYPOINT. Fix it and deploy again; to start over: docker compose -p ${EDGE_PROJECT} down (its routes stay on the volume ${EDGE_VOLUME}).`,
  )
}

/**
 * The config the edge resumes at start (Caddy's autosave, updated on every change): undefined before its
 * first save. Read out of the container, so it is found wherever its admin API listens.
 */
export async function savedConfig(deps: EngineDeps, id: string): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-edge-'))
  try {
    const file = join(dir, 'autosave.json')
    if ((await deps.run(copyFromContainer(deps.target.engine, id, AUTOSAVE, file), { allowFailure: true })).exitCode !== 0) return undefined
    const text = await readFile(file, 'utf8')
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new EdgeStateError(
        `the edge's saved config (${AUTOSAVE} in its container) does not parse: ${(error as Error).message}`,
        `Caddy wrote it; see docker compose -p ${EDGE_PROJECT} logs caddy. Taking the edge down with its volume (docker compose -p ${EDGE_PROJECT} down --volumes) drops every route on it: then deploy each blue-green environment again.`,
      )
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
