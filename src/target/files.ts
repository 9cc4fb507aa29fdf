import { readdirSync, readFileSync, statSync } from 'node:fs'
import { appendFile, chmod, link, mkdir, open, rename, rm, rmdir, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { randomHex } from '../crypto.js'

/**
 * Files on one machine: where a target keeps an environment's state (records, configs, audit log, lock) and
 * where the edge's live markers and admin socket are — this machine for the local target, the engine's host
 * for a remote one. Everything berth reads or writes there goes through this interface.
 */
export interface Files {
  /** The file's content; undefined when there is none. */
  read(path: string): Promise<string | undefined>
  /** The file's last byte; undefined when it is missing or empty. */
  lastByte(path: string): Promise<number | undefined>
  /** Writes via a temp file, fsync and rename, so a reader (or a crash) never sees half a file: file 0600 in a private directory. */
  writeAtomic(path: string, data: string): Promise<void>
  /** Appends to the file (0600, in a private directory). */
  append(path: string, data: string): Promise<void>
  /** Creates the file with `data` only if it does not exist (O_EXCL): false when it did. A failed write leaves no file. */
  createExclusive(path: string, data: string, mode?: number): Promise<boolean>
  rename(from: string, to: string): Promise<void>
  /** Removes a file, or a directory with everything in it; nothing when it is gone already. */
  remove(path: string): Promise<void>
  /** Removes a directory if it is empty; false when it is not (or is gone). */
  removeEmptyDir(path: string): Promise<boolean>
  /** The entries of a directory; none when it does not exist. */
  list(dir: string): Promise<{ name: string; isDirectory: boolean }[]>
  stat(path: string): Promise<FileStat | undefined>
  /** How long ago the file was last modified, by the clock of the machine it is on; undefined when it is missing. */
  ageMs(path: string): Promise<number | undefined>
  /** Sets the file's modification time to now (a lock's lease); nothing when it is missing. */
  touch(path: string): Promise<void>
  /** Makes the directory (and its parents) with this mode. */
  mkdir(dir: string, mode: number): Promise<void>
  /** SPEC §7: makes the directory 0700, whatever it was. */
  privateDir(dir: string): Promise<void>
  /** Makes a rename in the directory durable before anything else is recorded. */
  syncDir(dir: string): Promise<void>
}

export interface FileStat {
  size: number
  mtimeMs: number
  mode: number
  uid: number
  isDirectory: boolean
  isFile: boolean
}

/** Creates the file with `data` (O_EXCL: EEXIST when it is there); a failed write leaves no file behind, which nobody could judge. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode)
  try {
    if (data !== '') await handle.writeFile(data)
  } catch (error) {
    await handle.close()
    await rm(path, { force: true })
    throw error
  }
  await handle.close()
}

function missing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

/**
 * This machine's files. What only reads (read, list, stat) is synchronous: state files are small, and a status
 * reads several per environment, each of which took four round trips through libuv's thread pool as a promise
 * (about 2 ms of `berth status`'s 2 environments). Writes stay asynchronous.
 */
export const localFiles: Files = {
  async read(path) {
    try {
      return readFileSync(path, 'utf8')
    } catch (error) {
      if (missing(error)) return undefined
      throw error
    }
  },

  async lastByte(path) {
    let handle
    try {
      handle = await open(path, 'r')
    } catch (error) {
      if (missing(error)) return undefined
      throw error
    }
    try {
      const { size } = await handle.stat()
      if (size === 0) return undefined
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      return last[0]
    } finally {
      await handle.close()
    }
  },

  async writeAtomic(path, data) {
    await localFiles.privateDir(dirname(path))
    const tmp = join(dirname(path), `.${randomHex(6)}.tmp`)
    const handle = await open(tmp, 'wx', 0o600)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    try {
      await rename(tmp, path)
    } catch (error) {
      await rm(tmp, { force: true })
      throw error
    }
  },

  async append(path, data) {
    await localFiles.privateDir(dirname(path))
    await appendFile(path, data, { mode: 0o600 })
  },

  // The file appears with its content, never empty: it is written under a temporary name first, then linked to
  // its own (link(2) fails when the name is taken, as O_EXCL does). A lock created with O_EXCL and then written
  // could be read between the two by the run that lost the race, which then could not name the holder. A file
  // system without hard links gets O_EXCL, then the write.
  async createExclusive(path, data, mode = 0o600) {
    const tmp = join(dirname(path), `.${randomHex(6)}.tmp`)
    try {
      await writeNew(tmp, data, mode)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      return localFiles.createExclusive(path, data, mode)
    }
    try {
      await link(tmp, path)
      return true
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return false
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error
    } finally {
      await rm(tmp, { force: true })
    }
    try {
      await writeNew(path, data, mode)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    }
  },

  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { recursive: true, force: true }),

  async removeEmptyDir(path) {
    return rmdir(path).then(
      () => true,
      () => false,
    )
  },

  async list(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isDirectory: e.isDirectory() }))
    } catch (error) {
      if (missing(error)) return []
      throw error
    }
  },

  async stat(path) {
    try {
      const st = statSync(path)
      return { size: st.size, mtimeMs: st.mtimeMs, mode: st.mode, uid: st.uid, isDirectory: st.isDirectory(), isFile: st.isFile() }
    } catch (error) {
      if (missing(error)) return undefined
      throw error
    }
  },

  async ageMs(path) {
    const st = await localFiles.stat(path)
    return st === undefined ? undefined : Date.now() - st.mtimeMs
  },

  async touch(path) {
    const now = new Date()
    await utimes(path, now, now).catch((error: unknown) => {
      if (!missing(error)) throw error
    })
  },

  async mkdir(dir, mode) {
    await mkdir(dir, { recursive: true, mode })
  },

  async privateDir(dir) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await chmod(dir, 0o700)
  },

  async syncDir(dir) {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  },
}
