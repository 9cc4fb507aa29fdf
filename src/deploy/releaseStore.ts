import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { readJsonIfExists, writeFileAtomic } from './stateFiles.js'

/**
 * active: live now · previous: the release `rollback` returns to · superseded: older, once active ·
 * failed: never became healthy · rolled-back: was active, then rolled back from.
 */
export type ReleaseStatus = 'active' | 'previous' | 'superseded' | 'failed' | 'rolled-back'

export interface ReleaseRecord {
  tag: string
  /** When this release was deployed to this environment (ISO). */
  deployedAt: string
  /** When it last became active (ISO): "since when" in status. */
  activeSince?: string
  by: string
  git?: string
  status: ReleaseStatus
  /** service → image reference the release runs. */
  images: Record<string, string>
  /** Images berth built for this release (removed by retention when nothing kept uses them). */
  builtImages: string[]
  /** sha256 of the env file the release was deployed with. */
  envHash: string
  /** File name, inside the environment's releases/ folder, of the resolved compose config applied. */
  configFile: string
  /** service → compose's config hash of its containers when the release became healthy (drift baseline). */
  configHashes?: Record<string, string>
  /** blue-green: the colour project the release runs in. */
  colour?: 'blue' | 'green'
  /** blue-green: stateful services left running from an earlier release (unchanged), service → that release. */
  serviceReleases?: Record<string, string>
  durationMs?: number
}

interface ReleaseFile {
  version: 1
  releases: ReleaseRecord[]
}

export function envStateDir(stateDir: string, env: string): string {
  return join(stateDir, env)
}

export function configPath(stateDir: string, env: string, configFile: string): string {
  return join(stateDir, env, 'releases', configFile)
}

/** Newest first. */
export async function readReleases(stateDir: string, env: string): Promise<ReleaseRecord[]> {
  const file = await readJsonIfExists<ReleaseFile>(join(stateDir, env, 'releases.json'))
  return file?.releases ?? []
}

export async function writeReleases(stateDir: string, env: string, releases: ReleaseRecord[]): Promise<void> {
  const file: ReleaseFile = { version: 1, releases }
  await writeFileAtomic(join(stateDir, env, 'releases.json'), `${JSON.stringify(file, null, 2)}\n`)
}

/** Environments that have state, whether or not deploy.yml still names them (their images stay protected). */
export async function environmentsWithState(stateDir: string): Promise<string[]> {
  try {
    const entries = await readdir(stateDir, { withFileTypes: true })
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export function findActive(releases: readonly ReleaseRecord[]): ReleaseRecord | undefined {
  return releases.find((r) => r.status === 'active')
}

export function findPrevious(releases: readonly ReleaseRecord[]): ReleaseRecord | undefined {
  return releases.find((r) => r.status === 'previous')
}

/**
 * Puts `record` first (replacing an older record of the same tag) and recomputes which release is
 * `previous`: the newest once-active release other than the active one.
 */
export function withRecord(releases: readonly ReleaseRecord[], record: ReleaseRecord): ReleaseRecord[] {
  return normalize([record, ...releases.filter((r) => r.tag !== record.tag)])
}

/** Marks `tag` active; the release active before it becomes `demotedTo`. */
export function activate(releases: readonly ReleaseRecord[], tag: string, at: string, demotedTo: ReleaseStatus = 'superseded'): ReleaseRecord[] {
  return normalize(
    releases.map((r) => {
      if (r.tag === tag) return { ...r, status: 'active', activeSince: at }
      if (r.status === 'active') return { ...r, status: demotedTo }
      return r
    }),
  )
}

export function setStatus(releases: readonly ReleaseRecord[], tag: string, status: ReleaseStatus): ReleaseRecord[] {
  return normalize(releases.map((r) => (r.tag === tag ? { ...r, status } : r)))
}

function normalize(releases: ReleaseRecord[]): ReleaseRecord[] {
  const sorted = [...releases].sort((a, b) => b.deployedAt.localeCompare(a.deployedAt))
  const eligible = (r: ReleaseRecord) => r.status === 'previous' || r.status === 'superseded'
  const previous = sorted
    .filter(eligible)
    .sort((a, b) => (b.activeSince ?? b.deployedAt).localeCompare(a.activeSince ?? a.deployedAt))[0]
  return sorted.map((r) => (eligible(r) ? { ...r, status: r === previous ? 'previous' : 'superseded' } : r))
}

export interface RetentionPlan {
  kept: ReleaseRecord[]
  dropped: ReleaseRecord[]
}

/** SPEC §3: keep the newest `keep` releases, and always the active and previous ones. */
export function planRetention(releases: readonly ReleaseRecord[], keep: number): RetentionPlan {
  const kept: ReleaseRecord[] = []
  const dropped: ReleaseRecord[] = []
  releases.forEach((r, i) => {
    if (i < keep || r.status === 'active' || r.status === 'previous') kept.push(r)
    else dropped.push(r)
  })
  return { kept, dropped }
}

/** Images of `dropped` that no kept release of any environment still uses. */
export function imagesToRemove(dropped: readonly ReleaseRecord[], keptEverywhere: readonly ReleaseRecord[]): string[] {
  const inUse = new Set(keptEverywhere.flatMap((r) => [...r.builtImages, ...Object.values(r.images)]))
  return [...new Set(dropped.flatMap((r) => r.builtImages))].filter((img) => !inUse.has(img))
}

export async function removeUnreferencedConfigs(stateDir: string, env: string, kept: readonly ReleaseRecord[]): Promise<void> {
  const referenced = new Set(kept.map((r) => r.configFile))
  let files: string[]
  try {
    files = await readdir(join(stateDir, env, 'releases'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  await Promise.all(files.filter((f) => f.endsWith('.compose.yaml') && !referenced.has(f)).map((f) => rm(join(stateDir, env, 'releases', f), { force: true })))
}
