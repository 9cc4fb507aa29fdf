
import * as z from 'zod/mini'

import type { StateStore } from '../target/target.js'
import { readStateFile, type StateFile, unlessMissing, writeStateFile } from './files.js'
import { configPath, environmentPaths } from './paths.js'
import { byCodePoint } from '../order.js'

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
  /** sha256 of what configFile was made from (release/prepare.ts sourceHash): a deploy --tag from the same sources applies it as it is. */
  sourceHash?: string
  /** service → compose's config hash of its containers when the release became healthy (drift baseline). */
  configHashes?: Record<string, string>
  /** blue-green: the colour project the release runs in. */
  colour?: 'blue' | 'green'
  /** blue-green: stateful services left running from an earlier release (unchanged), service → that release. */
  serviceReleases?: Record<string, string>
  durationMs?: number
  /** Why it was rolled back, when berth did it by itself (a deploy's watch window, SPEC §9). */
  reason?: string
}

export interface ReleaseFile {
  version: 1
  releases: ReleaseRecord[]
}

/** Docker's rule for a tag: release tags become image tags (TAG_PATTERN is what berth itself gives out). */
export const tagSchema = z.string().check(z.regex(/^[\w][\w.-]{0,127}$/, 'expected a release tag like 20261122-093000'))
/** A file name inside the environment's releases/ folder: never a path that leads elsewhere. */
export const configFileSchema = z.string().check(z.regex(/^(?!\.\.?$)[^/\\]+$/, 'expected a file name in the releases/ folder'))
const time = z.iso.datetime(unlessMissing('expected a UTC time like 2026-11-22T09:30:00.000Z'))
const names = z.record(z.string(), z.string())

// Loose objects: a field a newer berth adds survives this one rewriting the file.
const releaseRecordSchema = z.looseObject({
  tag: tagSchema,
  deployedAt: time,
  activeSince: z.optional(time),
  by: z.string(),
  git: z.optional(z.string()),
  status: z.enum(['active', 'previous', 'superseded', 'failed', 'rolled-back'], unlessMissing('expected active, previous, superseded, failed or rolled-back')),
  images: names,
  builtImages: z.array(z.string()),
  envHash: z.string(),
  configFile: configFileSchema,
  sourceHash: z.optional(z.string()),
  configHashes: z.optional(names),
  colour: z.optional(z.enum(['blue', 'green'], unlessMissing('expected blue or green'))),
  serviceReleases: z.optional(names),
  durationMs: z.optional(z.number()),
  reason: z.optional(z.string()),
})

const releaseFileSchema: z.ZodMiniType<ReleaseFile> = z
  .looseObject({
    version: z.literal(1, unlessMissing('expected 1 (the only version this berth reads)')),
    releases: z.array(releaseRecordSchema),
  })
  .check(
    z.superRefine((file, ctx) => {
      // Which release runs and which one rollback returns to are read from the statuses: each at most once.
      const first = new Map<string, number>()
      file.releases.forEach((r, i) => {
        const seen = first.get(r.tag)
        if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['releases', i, 'tag'], message: `${r.tag} is also the tag of releases[${seen}]` })
        else first.set(r.tag, i)
      })
      for (const status of ['active', 'previous'] as const) {
        const at = file.releases.flatMap((r, i) => (r.status === status ? [i] : []))
        for (const i of at.slice(1)) ctx.addIssue({ code: 'custom', path: ['releases', i, 'status'], message: `a second ${status} release (releases[${at[0]}] is ${status})` })
      }
    }),
  )

export const RELEASE_FILE: StateFile<ReleaseFile> = {
  schema: releaseFileSchema,
  forgets: 'starts a new release history for the environment: nothing to roll back to until the next deploy, and retention no longer protects the images of the releases it forgot',
}

export function releasesPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).releases
}

/** Newest first; none when the environment has no records yet. A damaged file throws StateDamagedError. */
export async function readReleases(store: StateStore, env: string): Promise<ReleaseRecord[]> {
  return (await readStateFile(store.files, releasesPath(store.dir, env), RELEASE_FILE))?.releases ?? []
}

export async function writeReleases(store: StateStore, env: string, releases: ReleaseRecord[]): Promise<void> {
  await writeStateFile(store.files, releasesPath(store.dir, env), RELEASE_FILE, { version: 1, releases })
}

/** Environments that have state, whether or not deploy.yml still names them (their images stay protected). */

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
  const sorted = [...releases].sort((a, b) => byCodePoint(b.deployedAt, a.deployedAt))
  const eligible = (r: ReleaseRecord) => r.status === 'previous' || r.status === 'superseded'
  const previous = sorted
    .filter(eligible)
    .sort((a, b) => byCodePoint(b.activeSince ?? b.deployedAt, a.activeSince ?? a.deployedAt))[0]
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

export async function removeUnreferencedConfigs(store: StateStore, env: string, kept: readonly ReleaseRecord[]): Promise<void> {
  const referenced = new Set(kept.map((r) => r.configFile))
  const files = (await store.files.list(environmentPaths(store.dir, env).configs)).map((e) => e.name)
  await Promise.all(files.filter((f) => (f.endsWith('.compose.yaml') || f.endsWith('.stack.yaml')) && !referenced.has(f)).map((f) => store.files.remove(configPath(store.dir, env, f))))
}
