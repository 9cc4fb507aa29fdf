import { createServer, type Server } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'

import { allocatePorts, portFree, portsLeft } from '../../../src/preview/ports.js'

const everyPortFree = async () => true

describe('preview port allocation (SPEC §11)', () => {
  it('gives the lowest ports of the range that nobody holds', async () => {
    expect(await allocatePorts(2, { first: 41000, last: 41999 }, new Set(), everyPortFree)).toEqual([41000, 41001])
    expect(await allocatePorts(3, { first: 41000, last: 41999 }, new Set([41000, 41002]), everyPortFree)).toEqual([41001, 41003, 41004])
  })

  it('skips a port the host says is in use, and asks the host only about ports nobody else holds', async () => {
    const asked: number[] = []
    const isFree = async (port: number) => {
      asked.push(port)
      return port !== 41001
    }
    expect(await allocatePorts(2, { first: 41000, last: 41010 }, new Set([41002]), isFree)).toEqual([41000, 41003])
    expect(asked).toEqual([41000, 41001, 41003])
  })

  it('gives nothing when the range lacks room, and counts what is left', async () => {
    const range = { first: 41000, last: 41002 }
    expect(await allocatePorts(2, range, new Set([41000, 41001]), everyPortFree)).toBeUndefined()
    expect(await allocatePorts(2, range, new Set(), async (p) => p === 41002)).toBeUndefined()
    expect(portsLeft(range, new Set([41000, 41001]))).toBe(1)
  })

  it('allocates nothing when the template uses no port', async () => {
    expect(await allocatePorts(0, { first: 41000, last: 41000 }, new Set([41000]), everyPortFree)).toEqual([])
  })

  describe('portFree on this machine', () => {
    let server: Server | undefined
    afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

    it('says no for a port something listens on (on loopback only), yes once it is closed', async () => {
      server = createServer()
      const port = await new Promise<number>((resolve) => server?.listen(0, '127.0.0.1', () => resolve((server?.address() as { port: number }).port)))
      expect(await portFree(port)).toBe(false)
      await new Promise<void>((resolve) => server?.close(() => resolve()))
      server = undefined
      expect(await portFree(port)).toBe(true)
    })
  })
})
