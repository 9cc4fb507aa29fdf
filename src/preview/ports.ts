import { createServer } from 'node:net'

import type { PortRange } from '../config/types.js'

/**
 * SPEC §11: a preview's host ports, from its pattern's range, lowest first: never one in `taken` (another
 * environment's allocated ports, any published port on the engine, the edge's routes), and only one `isFree`
 * says nothing on the host listens on. Undefined when the range has too few such ports.
 */
export async function allocatePorts(
  count: number,
  range: PortRange,
  taken: ReadonlySet<number>,
  isFree: (port: number) => Promise<boolean>,
): Promise<number[] | undefined> {
  const ports: number[] = []
  for (let port = range.first; port <= range.last && ports.length < count; port++) {
    if (taken.has(port)) continue
    if (await isFree(port)) ports.push(port)
  }
  return ports.length === count ? ports : undefined
}

/** How many ports of the range are not taken: said when the range is full. */
export function portsLeft(range: PortRange, taken: ReadonlySet<number>): number {
  let left = 0
  for (let port = range.first; port <= range.last; port++) if (!taken.has(port)) left++
  return left
}

/**
 * Whether a TCP port of this machine (the engine's host: previews run on the local engine) can be bound on every
 * IPv4 address, which is what publishing it takes: something listening on it, on any address, says no.
 */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)))
  })
}
