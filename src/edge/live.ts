import { mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import { type EdgeColour, liveMarker } from './caddy.js'
import { EdgeUnavailableError } from './errors.js'

/**
 * The live markers on the host: `<live dir>/<app>/<env>/` holds one file, `blue` or `green`, naming the
 * colour the environment's routes send to (the edge mounts the directory read-only, see caddy.ts). A
 * switch renames one to the other, which is atomic: at every instant exactly one of them exists, so every
 * request goes to one colour or the other, and none is refused. The files survive reboots with the host.
 */

function envDir(liveDir: string, app: string, env: string): string {
  return dirname(join(liveDir, liveMarker(app, env)))
}

/** The colour an environment's routes send to now; undefined when it has no marker yet. */
export async function readLive(liveDir: string, app: string, env: string): Promise<EdgeColour | undefined> {
  const names = await readdir(envDir(liveDir, app, env)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[]
    throw accessError(liveDir, error)
  })
  if (names.includes('blue')) return 'blue'
  return names.includes('green') ? 'green' : undefined
}

/** Points an environment's routes at `colour`: one rename when a marker exists, else a new marker (written, then renamed in place). */
export async function setLive(liveDir: string, app: string, env: string, colour: EdgeColour): Promise<void> {
  const dir = envDir(liveDir, app, env)
  try {
    const current = await readLive(liveDir, app, env)
    if (current === colour) return
    if (current) {
      await rename(join(dir, current), join(dir, colour))
    } else {
      await mkdir(dir, { recursive: true, mode: 0o755 })
      const tmp = join(dir, `.${colour}.${process.pid}`)
      const file = await open(tmp, 'w', 0o644)
      await file.close()
      await rename(tmp, join(dir, colour))
    }
    await syncDir(dir)
  } catch (error) {
    throw error instanceof EdgeUnavailableError ? error : accessError(liveDir, error as NodeJS.ErrnoException)
  }
}

/** Removes an environment's marker (its routes are gone from the edge), and the app's directory once empty. */
export async function clearLive(liveDir: string, app: string, env: string): Promise<void> {
  const dir = envDir(liveDir, app, env)
  await rm(dir, { recursive: true, force: true })
  await rmdir(dirname(dir)).catch(() => undefined) // another environment of the app still has its marker there
}

/** The rename reaches the disk before berth records the switch, so a power cut cannot undo one but not the other. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function accessError(liveDir: string, error: NodeJS.ErrnoException): EdgeUnavailableError {
  return new EdgeUnavailableError(
    `cannot switch the edge's live marker under ${liveDir} (${error.code ?? error.message})`,
    error.code === 'EACCES' || error.code === 'EPERM'
      ? `Blue-green switches write under ${liveDir}, which the edge mounts: run berth as root, or give its user write access to that directory.`
      : 'See: berth doctor',
  )
}
