import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { CaddyAdmin, canonicalJson } from '../../../src/edge/admin.js'
import { EdgeAdminError, EdgeUnavailableError } from '../../../src/edge/errors.js'

interface Seen {
  method: string
  url: string
  host?: string
  ifMatch?: string
  body: string
}

let server: Server | undefined
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-admin-'))
})

/**
 * A stand-in for Caddy's admin API answering from a script, one answer per request: on a unix socket as
 * berth's edge, or on a TCP port as an earlier berth's.
 */
async function fakeCaddy(answers: { status: number; body: unknown; etag?: string }[], on: 'socket' | 'tcp' = 'socket'): Promise<{ admin: CaddyAdmin; seen: Seen[] }> {
  const seen: Seen[] = []
  server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        ...(req.headers.host ? { host: req.headers.host } : {}),
        ...(req.headers['if-match'] ? { ifMatch: String(req.headers['if-match']) } : {}),
      })
      const answer = answers.shift() ?? { status: 500, body: { error: 'unexpected request' } }
      // Caddy sends the ETag as a trailer of a chunked answer.
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.etag ? { trailer: 'ETag' } : {}) })
      res.write(JSON.stringify(answer.body))
      if (answer.etag) res.addTrailers({ ETag: answer.etag })
      res.end()
    })
  })
  if (on === 'tcp') {
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    return { admin: new CaddyAdmin({ tcp: `127.0.0.1:${(server.address() as AddressInfo).port}` }), seen }
  }
  const socket = join(dir, 'admin.sock')
  await new Promise<void>((resolve) => server?.listen(socket, resolve))
  return { admin: new CaddyAdmin({ socket }), seen }
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
  rmSync(dir, { recursive: true, force: true })
})

const noSleep = async () => {}

describe('CaddyAdmin', () => {
  it('replaces the servers with If-Match, and recomputes from a fresh read when another writer got there first', async () => {
    const { admin, seen } = await fakeCaddy([
      { status: 200, body: { s: 1 }, etag: '"/config/apps/http/servers aaaa"' },
      { status: 412, body: { error: 'If-Match header did not match current config hash' } },
      { status: 200, body: { s: 2 }, etag: '"/config/apps/http/servers bbbb"' },
      { status: 200, body: null },
    ])
    const reads: unknown[] = []
    await admin.updateServers((current) => (reads.push(current), { ...current, mine: {} }), noSleep)
    expect(reads).toEqual([{ s: 1 }, { s: 2 }])
    expect(seen.map((s) => `${s.method} ${s.url} ${s.ifMatch ?? ''}`)).toEqual([
      'GET /config/apps/http/servers ',
      'POST /config/apps/http/servers "/config/apps/http/servers aaaa"',
      'GET /config/apps/http/servers ',
      'POST /config/apps/http/servers "/config/apps/http/servers bbbb"',
    ])
    expect(JSON.parse(seen[3]?.body ?? '')).toEqual({ s: 2, mine: {} })
    // The Host that the edge's admin.origins allows on its socket.
    expect(seen.map((s) => s.host)).toEqual(['berth', 'berth', 'berth', 'berth'])
  })

  it("speaks TCP to an earlier berth's edge, with the Host its admin API allows there by default", async () => {
    const { admin, seen } = await fakeCaddy([{ status: 200, body: { admin: { listen: '127.0.0.1:2019' } } }], 'tcp')
    expect((await admin.get('/config/')).value).toEqual({ admin: { listen: '127.0.0.1:2019' } })
    expect(seen[0]?.host).toBe(admin.address)
  })

  it('writes nothing when the servers already are as wanted, whatever the order of their keys', async () => {
    // Caddy answers with sorted keys; berth builds routes with '@id' first and 'handle' before 'match'.
    const held = { a: { listen: [':1'] }, b: { routes: [{ handle: [{ handler: 'x' }], match: [{ host: ['x'] }] }] } }
    const { admin, seen } = await fakeCaddy([{ status: 200, body: held, etag: '"/config/apps/http/servers aaaa"' }])
    await admin.updateServers(() => ({ b: { routes: [{ match: [{ host: ['x'] }], handle: [{ handler: 'x' }] }] }, a: { listen: [':1'] } }), noSleep)
    expect(seen).toHaveLength(1)
  })

  it('compares JSON canonically: key order aside, values and array order count', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}')
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }))
  })

  it("carries Caddy's error text when it refuses a change", async () => {
    const { admin } = await fakeCaddy([{ status: 400, body: { error: 'loading new config: listen tcp :80: bind: address already in use' } }])
    const write = admin.write({ method: 'POST', path: '/config/apps/http/servers', body: {} })
    await expect(write).rejects.toBeInstanceOf(EdgeAdminError)
    await expect(write).rejects.toThrow(/refused POST \/config\/apps\/http\/servers \(HTTP 400\): loading new config: listen tcp :80: bind: address already in use/)
  })

  it('says the edge does not answer when nothing listens', async () => {
    const { admin } = await fakeCaddy([])
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
    const read = admin.get('/config/')
    await expect(read).rejects.toBeInstanceOf(EdgeUnavailableError)
    await expect(read).rejects.toMatchObject({ errno: 'ENOENT', message: expect.stringContaining(`does not answer on ${admin.address}`) })
  })
})
