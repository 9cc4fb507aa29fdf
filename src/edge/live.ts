import { dirname, join } from 'node:path'

import { BerthError } from '../errors.js'
import type { Files } from '../target/files.js'
import { type EdgeColour, liveMarker } from './caddy.js'
import { EdgeStateError, EdgeUnavailableError } from './errors.js'

/**
 * The live markers on the host: `<live dir>/<app>/<env>/` holds one file, `blue` or `green`, naming the
 * colour the environment's routes send to (the edge mounts the directory read-only, see caddy.ts). A
 * switch renames one to the other, which is atomic: at every instant exactly one of them exists, so every
 * request goes to one colour or the other, and none is refused. The files survive reboots with the host.
 */

function envDir(liveDir: string, app: string, env: string): string {
  return dirname(join(liveDir, liveMarker(app, env)))
}

/**
 * The colour an environment's routes send to now; undefined when it has no marker yet. A marker berth
 * cannot read — both colours at once (the edge then sends to blue), or one that is not a file — is
 * EdgeStateError: a switch would rename the wrong one, so it stops, and doctor shows it.
 */
export async function readLive(files: Files, liveDir: string, app: string, env: string): Promise<EdgeColour | undefined> {
  const dir = envDir(liveDir, app, env)
  const entries = await files.list(dir).catch((error: NodeJS.ErrnoException) => {
    throw accessError(liveDir, error)
  })
  // Anything else there (a dot-file of an interrupted first switch) is not a marker.
  const markers = entries.filter((e) => e.name === 'blue' || e.name === 'green')
  if (markers.length > 1) {
    throw new EdgeStateError(
      `the live marker of ${app}/${env} is damaged: ${dir} holds both blue and green, so berth cannot tell which colour is live (the edge sends to blue)`,
      `Remove the marker of the colour that should not serve (berth status ${env} shows the recorded live colour): rm ${join(dir, 'green')}  or  rm ${join(dir, 'blue')}`,
    )
  }
  const marker = markers[0]
  if (marker && marker.isDirectory) {
    throw new EdgeStateError(
      `the live marker ${join(dir, marker.name)} of ${app}/${env} is not a file`,
      `Remove it (rm -r ${join(dir, marker.name)}), then put back the marker of the recorded live colour (berth status ${env} shows it): touch ${join(dir, 'blue')}  or  touch ${join(dir, 'green')}`,
    )
  }
  return marker?.name as EdgeColour | undefined
}

/** Points an environment's routes at `colour`: one rename when a marker exists, else a new marker (written, then renamed in place). */
export async function setLive(files: Files, liveDir: string, app: string, env: string, colour: EdgeColour): Promise<void> {
  const dir = envDir(liveDir, app, env)
  try {
    const current = await readLive(files, liveDir, app, env)
    if (current === colour) return
    if (current) {
      await files.rename(join(dir, current), join(dir, colour))
    } else {
      await files.mkdir(dir, 0o755)
      const tmp = join(dir, `.${colour}.${process.pid}`)
      await files.remove(tmp)
      await files.createExclusive(tmp, '', 0o644)
      await files.rename(tmp, join(dir, colour))
    }
    // The rename reaches the disk before berth records the switch, so a power cut cannot undo one but not the other.
    await files.syncDir(dir)
  } catch (error) {
    throw error instanceof BerthError ? error : accessError(liveDir, error as NodeJS.ErrnoException)
  }
}

/** Removes an environment's marker (its routes are gone from the edge), and the app's directory once empty. */
export async function clearLive(files: Files, liveDir: string, app: string, env: string): Promise<void> {
  const dir = envDir(liveDir, app, env)
  await files.remove(dir)
  await files.removeEmptyDir(dirname(dir)) // false: another environment of the app still has its marker there
}

function accessError(liveDir: string, error: NodeJS.ErrnoException): EdgeUnavailableError {
  return new EdgeUnavailableError(
    `cannot switch the edge's live marker under ${liveDir} (${error.code ?? error.message})`,
    error.code === 'EACCES' || error.code === 'EPERM'
      ? `Blue-green switches write under ${liveDir}, which the edge mounts: run berth as root, or give its user write access to that directory.`
      : 'See: berth doctor',
  )
}
