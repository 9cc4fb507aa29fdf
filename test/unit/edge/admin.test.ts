import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'

import { CaddyAdmin, canonicalJson } from '../../../src/edge/admin.js'
import { EdgeAdminError, EdgeUnavailableError } from '../../../src/edge/errors.js'

interface Seen {
  method: string
  url: string
  ifMatch?: string
  body: string
}

let server: Server | undefined

/** A stand-in for Caddy's admin API answering from a script, one answer per request. */
async function fakeCaddy(answers: { status: number; body: unknown; etag?: string }[]): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = []
  server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, ...(req.headers['if-match'] ? { ifMatch: String(req.headers['if-match']) } : {}) })
      const answer = answers.shift() ?? { status: 500, body: { error: 'unexpected request' } }
      // Caddy sends the ETag as a trailer of a chunked answer.
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.etag ? { trailer: 'ETag' } : {}) })
      res.write(JSON.stringify(answer.body))
      if (answer.etag) res.addTrailers({ ETag: answer.etag })
      res.end()
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, seen }
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

const noSleep = async () => {}

describe('CaddyAdmin', () => {
  it('replaces the servers with If-Match, and recomputes from a fresh read when another writer got there first', async () => {
    const { port, seen } = await fakeCaddy([
      { status: 200, body: { s: 1 }, etag: '"/config/apps/http/servers aaaa"' },
      { status: 412, body: { error: 'If-Match header did not match current config hash' } },
      { status: 200, body: { s: 2 }, etag: '"/config/apps/http/servers bbbb"' },
      { status: 200, body: null },
    ])
    const reads: unknown[] = []
    await new CaddyAdmin(port).updateServers((current) => (reads.push(current), { ...current, mine: {} }), noSleep)
    expect(reads).toEqual([{ s: 1 }, { s: 2 }])
    expect(seen.map((s) => `${s.method} ${s.url} ${s.ifMatch ?? ''}`)).toEqual([
      'GET /config/apps/http/servers ',
      'POST /config/apps/http/servers "/config/apps/http/servers aaaa"',
      'GET /config/apps/http/servers ',
      'POST /config/apps/http/servers "/config/apps/http/servers bbbb"',
    ])
    expect(JSON.parse(seen[3]?.body ?? '')).toEqual({ s: 2, mine: {} })
  })

  it('writes nothing when the servers already are as wanted, whatever the order of their keys', async () => {
    // Caddy answers with sorted keys; berth builds routes with '@id' first and 'handle' before 'match'.
    const held = { a: { listen: [':1'] }, b: { routes: [{ handle: [{ handler: 'x' }], match: [{ host: ['x'] }] }] } }
    const { port, seen } = await fakeCaddy([{ status: 200, body: held, etag: '"/config/apps/http/servers aaaa"' }])
    await new CaddyAdmin(port).updateServers(() => ({ b: { routes: [{ match: [{ host: ['x'] }], handle: [{ handler: 'x' }] }] }, a: { listen: [':1'] } }), noSleep)
    expect(seen).toHaveLength(1)
  })

  it('compares JSON canonically: key order aside, values and array order count', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}')
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }))
  })

  it("carries Caddy's error text when it refuses a change", async () => {
    const { port } = await fakeCaddy([{ status: 400, body: { error: 'loading new config: listen tcp :80: bind: address already in use' } }])
    const write = new CaddyAdmin(port).write({ method: 'POST', path: '/config/apps/http/servers', body: {} })
    await expect(write).rejects.toBeInstanceOf(EdgeAdminError)
    await expect(write).rejects.toThrow(/refused POST \/config\/apps\/http\/servers \(HTTP 400\): loading new config: listen tcp :80: bind: address already in use/)
  })

  it('says the edge does not answer when nothing listens', async () => {
    const { port } = await fakeCaddy([])
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
    await expect(new CaddyAdmin(port).get('/config/')).rejects.toBeInstanceOf(EdgeUnavailableError)
  })
})
