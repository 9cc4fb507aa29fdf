import { dockerRootDir } from '../../docker/docker.js'
import type { Deps } from '../../run/context.js'
import type { Check } from '../check.js'

/** Below this, the next build or pull may fill the disk the engine keeps images on. */
export const MIN_FREE_BYTES = 2 * 1024 ** 3

/** Free space where the engine keeps images: its root directory, as `docker info` names it, on the target's host. */
export async function diskCheck(deps: Pick<Deps, 'run' | 'target'>): Promise<Check> {
  const notChecked = (why: string): Check => ({ id: 'disk', status: 'warn', summary: `not checked: ${why}`, details: [] })
  const result = await deps.run(dockerRootDir(deps.target.engine), { allowFailure: true })
  const dir = result.stdout.trim()
  if (result.exitCode !== 0 || !dir) return notChecked('docker info did not name the engine root directory')
  let free: number | undefined
  try {
    free = await deps.target.host.freeBytes(dir)
  } catch (error) {
    return notChecked(`${dir}: ${(error as Error).message}`)
  }
  // The local target cannot see the engine's disk only when the shell's DOCKER_HOST names another machine.
  if (free === undefined) return notChecked(`the engine is remote (DOCKER_HOST=${process.env.DOCKER_HOST ?? ''})`)
  return diskCheckOf(dir, free)
}

export function diskCheckOf(dir: string, freeBytes: number): Check {
  const free = `${(freeBytes / 1024 ** 3).toFixed(1)} GiB free in ${dir}`
  if (freeBytes >= MIN_FREE_BYTES) return { id: 'disk', status: 'ok', summary: free, details: [] }
  return {
    id: 'disk',
    status: 'warn',
    summary: `${free}: a build or pull may fill it`,
    details: [],
    hint: 'Free space: docker image prune (unused images), docker builder prune (build cache); lower releases.keep to keep fewer releases.',
  }
}
