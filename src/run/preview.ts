import { mkdir, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

import type { Config, EnvironmentConfig } from '../config/types.js'
import { psAll } from '../docker/docker.js'
import { parsePs } from '../docker/parse.js'
import { PreflightError } from '../errors.js'
import { parsePublished } from '../inspect/hostPorts.js'
import { allocatePorts, portFree, portsLeft } from '../preview/ports.js'
import { fillTemplate } from '../preview/template.js'
import { readOrDamaged } from '../state/damage.js'
import { environmentPaths, environmentsWithState } from '../state/paths.js'
import { type PreviewRecord, readPreview, writePreview } from '../state/preview.js'
import { localFiles } from '../target/files.js'
import type { Deps } from './context.js'

/** A preview as a deploy of it finds it (SPEC §11): made just now by this run, or earlier. */
export interface OpenedPreview {
  record: PreviewRecord
  /** This run made it: its env file and record are new. */
  created: boolean
  /** A refused deploy of a preview it made leaves nothing of it: the env file and the state directory go. */
  undo(): Promise<void>
  /** Under the lock, as the deploy ends (whatever its outcome): the preview's ttl counts from here. */
  deployed(at: Date): Promise<void>
}

/**
 * Before a deploy of a preview reads its env file: a preview deployed before is used as it is (its ports kept,
 * its env file, which the operator may have edited, left alone); one deployed for the first time gets its
 * ports, its env file written from the pattern's template (0600, never over an existing file) and its record.
 */
export async function openPreview(deps: Deps, config: Config, env: EnvironmentConfig): Promise<OpenedPreview> {
  const preview = env.preview as NonNullable<EnvironmentConfig['preview']>
  const { state } = deps.target
  const existing = await readPreview(state, env.name)
  const deployed = async (record: PreviewRecord, at: Date) => writePreview(state, env.name, { ...record, lastDeployAt: at.toISOString() })
  if (existing) {
    return { record: existing, created: false, undo: async () => {}, deployed: (at) => deployed(existing, at) }
  }
  const stateDir = environmentPaths(state.dir, env.name).dir
  // Two first deploys of different previews at once would each find the same ports free: the choice and the
  // record that holds them are made one preview at a time.
  const record = await oneAtATime(deps, async () => {
    const ports = preview.portCount === 0 ? [] : await reservePorts(deps, config, env)
    const text = fillTemplate(await readFile(preview.template, 'utf8'), { app: config.app, env: env.name, ports })
    await mkdir(dirname(env.envFile), { recursive: true })
    if (!(await localFiles.createExclusive(env.envFile, text, 0o600))) {
      throw new PreflightError(
        `${env.name} would be made from ${preview.pattern}, but its env file ${env.envFile} exists already; berth does not write over it`,
        `Remove it (berth writes it from ${preview.template}), or move it aside, and deploy again`,
        'PREVIEW_ENV_FILE_EXISTS',
      )
    }
    const now = deps.now().toISOString()
    const made: PreviewRecord = { pattern: preview.pattern, createdAt: now, lastDeployAt: now, ports }
    try {
      await writePreview(state, env.name, made)
    } catch (error) {
      await rm(env.envFile, { force: true })
      throw error
    }
    return made
  })
  const { ports } = record
  deps.reporter.info(`${env.name}: made from ${preview.pattern}${ports.length ? ` with ports ${ports.join(', ')}` : ''}; env file ${env.envFile}`)
  return {
    record,
    created: true,
    undo: async () => {
      await rm(env.envFile, { force: true })
      await state.files.remove(stateDir)
    },
    deployed: (at) => deployed(record, at),
  }
}

/** The preview's ports: the lowest free ones of its range (ports.ts), none another environment or the host holds. */
async function reservePorts(deps: Deps, config: Config, env: EnvironmentConfig): Promise<number[]> {
  const preview = env.preview as NonNullable<EnvironmentConfig['preview']>
  const range = preview.ports as NonNullable<typeof preview.ports>
  const taken = await takenPorts(deps, config, env)
  const ports = await allocatePorts(preview.portCount, range, taken, portFree)
  if (ports) return ports
  throw new PreflightError(
    `${env.name} needs ${preview.portCount} free host ports from ${range.first}-${range.last} (ports: of ${preview.pattern}), and fewer are free (${portsLeft(range, taken)} are neither another environment's nor published on the engine; the others are in use on the host)`,
    `Prune expired previews (berth prune --expired), take one down, or widen the range`,
    'PREVIEW_PORTS_EXHAUSTED',
  )
}

/**
 * Ports a new preview must not get: every port another environment of this state directory was allocated (its
 * preview record), every port a container on the engine publishes (any project, any app), and the listen ports
 * of deploy.yml's routes. The host's own listeners are tried one by one afterwards (portFree).
 */
async function takenPorts(deps: Deps, config: Config, env: EnvironmentConfig): Promise<Set<number>> {
  const taken = new Set<number>()
  for (const name of await environmentsWithState(deps.target.state)) {
    if (name === env.name) continue
    const read = await readOrDamaged(readPreview(deps.target.state, name))
    if (read.ok) for (const port of read.value?.ports ?? []) taken.add(port)
    else deps.reporter.warn(`the ports of ${name} are unknown (${read.damaged.file} is damaged); ${env.name}'s avoid the ports in use now`)
  }
  const { stdout } = await deps.run(psAll(deps.target.engine))
  for (const c of parsePs(stdout, deps.target.labels)) for (const p of parsePublished(c.ports)) taken.add(p.port)
  for (const other of config.environments.values()) for (const route of other.routes) taken.add(route.listen)
  return taken
}

/** The state directory's lock on making previews: held only while one picks its ports and writes its record. */
const MAKING_LOCK = '.making-preview.lock'
/** A lock older than this was left by a berth that died while making a preview (making one takes milliseconds). */
const MAKING_STALE_MS = 30_000

async function oneAtATime<T>(deps: Deps, body: () => Promise<T>): Promise<T> {
  const { files, dir } = deps.target.state
  await files.mkdir(dir, 0o700)
  const lock = `${dir}/${MAKING_LOCK}`
  const deadline = deps.now().getTime() + MAKING_STALE_MS * 2
  while (!(await files.createExclusive(lock, `${process.pid}\n`))) {
    const age = await files.ageMs(lock)
    if (age !== undefined && age > MAKING_STALE_MS) await files.remove(lock)
    else if (deps.now().getTime() > deadline) throw new PreflightError(`another berth has been making a preview for over a minute (${lock})`, `If no berth runs, remove it: rm ${lock}`, 'LOCKED')
    else await deps.sleep(50)
  }
  try {
    return await body()
  } finally {
    await files.remove(lock)
  }
}
