import * as z from 'zod/mini'

import type { StateStore } from '../target/target.js'
import { readStateFile, type StateFile, unlessMissing, writeStateFile } from './files.js'
import { environmentPaths } from './paths.js'

/** SPEC §11: what berth keeps of a preview environment, beside its release records (.berth/<env>/preview.json). */
export interface PreviewRecord {
  /** The pattern of deploy.yml it was made from. */
  pattern: string
  /** When its first deploy made it (ISO). */
  createdAt: string
  /** When its last deploy ended (ISO), whatever its outcome: its ttl counts from here. */
  lastDeployAt: string
  /** The host ports allocated to it: ${BERTH_PORT_1} is ports[0]. Kept for as long as the preview is. */
  ports: number[]
}

const time = z.iso.datetime(unlessMissing('expected a UTC time like 2026-11-22T09:30:00.000Z'))
const PORT_MESSAGE = 'expected a port number from 1 to 65535'

export const PREVIEW_FILE: StateFile<PreviewRecord> = {
  // Loose: a field a newer berth adds survives this one rewriting the file.
  schema: z.looseObject({
    pattern: z.string(),
    createdAt: time,
    lastDeployAt: time,
    ports: z.array(z.int(unlessMissing(PORT_MESSAGE)).check(z.gte(1, PORT_MESSAGE), z.lte(65535, PORT_MESSAGE))),
  }),
  forgets: 'no longer sees the environment as a preview: it is not shown, deployed or pruned as one until the file is back',
}

export function previewPath(stateDir: string, env: string): string {
  return environmentPaths(stateDir, env).preview
}

export async function readPreview(store: StateStore, env: string): Promise<PreviewRecord | undefined> {
  return readStateFile(store.files, previewPath(store.dir, env), PREVIEW_FILE)
}

export async function writePreview(store: StateStore, env: string, record: PreviewRecord): Promise<void> {
  await store.files.privateDir(environmentPaths(store.dir, env).dir)
  await writeStateFile(store.files, previewPath(store.dir, env), PREVIEW_FILE, record)
}

/** When a preview with this ttl expires: its last deploy plus the ttl; undefined without a ttl (never). */
export function expiresAt(record: Pick<PreviewRecord, 'lastDeployAt'>, ttlMs: number | undefined): Date | undefined {
  return ttlMs === undefined ? undefined : new Date(Date.parse(record.lastDeployAt) + ttlMs)
}

export function isExpired(record: Pick<PreviewRecord, 'lastDeployAt'>, ttlMs: number | undefined, now: Date): boolean {
  const at = expiresAt(record, ttlMs)
  return at !== undefined && at.getTime() <= now.getTime()
}
