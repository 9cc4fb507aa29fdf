import { statSync } from 'node:fs'
import { join } from 'node:path'

import { berthCacheDir, ownedByMe } from '../cacheDir.js'
import { readEntries, type Stamped, writeEntry } from '../cacheEntries.js'

/**
 * What an engine says of itself that lasts as long as its socket (issue 15): the engine's ID from /info, which keys
 * the Compose version cache (target/composeCache.ts). dockerd answers /info (and /version) by asking containerd and
 * running runc and docker-init for their versions, about 8 ms of a command each on an idle host, more on a busy
 * one; what berth keeps of the answer does not change while the engine runs. So the fields an ApiGet names in
 * `keep` are kept here under the socket's identity: its path, inode and change time, which dockerd makes anew
 * when it starts (it creates the socket and sets its owner). A later read of the same socket takes them without a
 * request; a restarted engine, or another one behind the path, is a miss and asked again. (Behind a socket that
 * outlives the engine, systemd's socket activation, an engine keeps its ID across restarts anyway.)
 *
 * One file, `$XDG_CACHE_HOME/berth/engine-identity.json`, believed only when this user owns it and no one else
 * can write it; the newest MAX_ENTRIES sockets stay (an SSH host's socket is forwarded anew by every command,
 * so its entries come and go). A cache that cannot be read or written is simply not used.
 */

type Entry = { answers: Record<string, Record<string, unknown>> }

const MAX_ENTRIES = 32

export function identityFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(berthCacheDir(env), 'engine-identity.json')
}

function socketKey(socketPath: string): string | undefined {
  const s = statSync(socketPath, { throwIfNoEntry: false })
  return s ? `${socketPath} ${s.ino} ${Math.trunc(s.ctimeMs)}` : undefined
}

/** The entries, when this user wrote the file and no one else can write it. */
function believed(file: string): Record<string, Stamped<Entry>> {
  return ownedByMe(file) ? readEntries<Entry>(file) : {}
}

/** The kept fields of `path`'s answer on this socket, while it is the socket they were read from. */
export function keptAnswer(socketPath: string, path: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
  const key = socketKey(socketPath)
  const kept = key === undefined ? undefined : believed(identityFile(env))[key]?.answers?.[path]
  return kept && typeof kept === 'object' ? kept : undefined
}

/** Keeps `fields` of a JSON answer of `path` (when all are present) under the socket's identity. */
export function keepAnswer(socketPath: string, path: string, body: unknown, fields: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const key = socketKey(socketPath)
  if (key === undefined || body === null || typeof body !== 'object') return
  const picked = Object.fromEntries(fields.filter((f) => f in body).map((f) => [f, (body as Record<string, unknown>)[f]]))
  if (Object.keys(picked).length !== fields.length) return
  const file = identityFile(env)
  writeEntry<Entry>(file, key, (old) => ({ answers: { ...old?.answers, [path]: picked } }), MAX_ENTRIES, believed(file))
}
