import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { plainRequest, RequestFailed } from '../../../src/http/request.js'

const servers: Server[] = []
const dirs: string[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function listen(on: string | number, handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler)
  servers.push(server)
  return new Promise((resolve) => server.listen(on, () => resolve(server)))
}

describe('plainRequest', () => {
  it('sends method, headers and body over a unix socket, with the URL host as Host, and reads the trailers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-req-'))
    dirs.push(dir)
    const socket = join(dir, 'admin.sock')
    let seen: { method?: string; host?: string; type?: string; body: string } = { body: '' }
    await listen(socket, (req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => {
        seen = { method: req.method, host: req.headers.host, type: req.headers['content-type'], body }
        res.writeHead(200, { trailer: 'etag' })
        res.write('{"a":1}')
        res.addTrailers({ etag: '"abc"' })
        res.end()
      })
    })
    const answer = await plainRequest({ method: 'POST', url: 'http://caddy-admin/config/', socketPath: socket, headers: { 'content-type': 'application/json' }, body: '{"x":2}', timeoutMs: 2000 })
    expect(seen).toEqual({ method: 'POST', host: 'caddy-admin', type: 'application/json', body: '{"x":2}' })
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('{"a":1}')
    expect(answer.trailers.etag).toBe('"abc"')
  })

  it('lets a Host header of the caller replace the URL host (a probe with host:)', async () => {
    let host: string | undefined
    const server = await listen(0, (req, res) => {
      host = req.headers.host
      res.end('ok')
    })
    const { port } = server.address() as AddressInfo
    const answer = await plainRequest({ method: 'GET', url: `http://127.0.0.1:${port}/health`, headers: { host: 'shop.example' }, timeoutMs: 2000 })
    expect(answer).toMatchObject({ status: 200, body: 'ok' })
    expect(host).toBe('shop.example')
  })

  it('fails with TIMEOUT when no answer comes in time, and with the errno when nothing listens', async () => {
    const server = await listen(0, () => {
      // never answers
    })
    const { port } = server.address() as AddressInfo
    const slow = plainRequest({ method: 'GET', url: `http://127.0.0.1:${port}/hang`, timeoutMs: 150 })
    await expect(slow).rejects.toBeInstanceOf(RequestFailed)
    await expect(slow).rejects.toMatchObject({ code: 'TIMEOUT' })
    server.closeAllConnections()
    const closed = await listen(0, () => undefined)
    const free = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await expect(plainRequest({ method: 'GET', url: `http://127.0.0.1:${free}/`, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})
