import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hostPort, probeHttp } from '../../../src/health/probe.js'

/** Each path answers with a fixed status and body. */
const answers: Record<string, { status: number; body: string }> = {
  '/health': { status: 200, body: 'ok' },
  '/broken': { status: 500, body: 'Internal Server Error: database is down' },
  '/empty': { status: 204, body: '' },
  '/starting': { status: 200, body: '{"status":"starting"}' },
  '/redirect': { status: 302, body: '' },
  '/long': { status: 503, body: `${'x'.repeat(200)}` },
}

let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') return // never answers
    const answer = answers[req.url ?? ''] ?? { status: 404, body: 'not found' }
    res.writeHead(answer.status, { 'content-type': 'text/plain' })
    res.end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('probeHttp', () => {
  it('passes on 200 with any 2xx expected', async () => {
    expect(await probeHttp({ url: `${base}/health` })).toEqual({ ok: true, detail: 'HTTP 200' })
  })

  it('passes on 204 with any 2xx expected', async () => {
    expect((await probeHttp({ url: `${base}/empty` })).ok).toBe(true)
  })

  it('passes when the body contains the expected text', async () => {
    expect(await probeHttp({ url: `${base}/health`, status: 200, contains: 'ok' })).toEqual({ ok: true, detail: 'HTTP 200' })
  })

  it('fails on 500 with the status and a body excerpt', async () => {
    const result = await probeHttp({ url: `${base}/broken` })
    expect(result.ok).toBe(false)
    expect(result.detail).toContain('500')
    expect(result.detail).toContain('expected 2xx')
    expect(result.detail).toContain('database is down')
  })

  it('does not follow a redirect into a pass', async () => {
    const result = await probeHttp({ url: `${base}/redirect` })
    expect(result.ok).toBe(false)
    expect(result.detail).toContain('302')
  })

  it('fails when the status is not the expected one, even a 2xx', async () => {
    const result = await probeHttp({ url: `${base}/health`, status: 204 })
    expect(result.ok).toBe(false)
    expect(result.detail).toBe('HTTP 200 (expected 204): ok')
  })

  it('passes an exact expected status', async () => {
    expect((await probeHttp({ url: `${base}/empty`, status: 204 })).ok).toBe(true)
  })

  it('fails when the body lacks the expected text', async () => {
    const result = await probeHttp({ url: `${base}/starting`, contains: '"status":"ok"' })
    expect(result.ok).toBe(false)
    expect(result.detail).toContain('does not contain ""status":"ok""')
    expect(result.detail).toContain('{"status":"starting"}')
  })

  it('cuts a long body', async () => {
    const result = await probeHttp({ url: `${base}/long` })
    expect(result.ok).toBe(false)
    expect(result.detail).toContain('503')
    expect(result.detail.length).toBeLessThan(200)
    expect(result.detail.endsWith('…')).toBe(true)
  })

  it('fails without throwing when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const result = await probeHttp({ url: `http://127.0.0.1:${port}/health` })
    expect(result.ok).toBe(false)
    expect(result.detail).toContain('ECONNREFUSED')
  })

  it('fails without throwing when the server does not answer in time', async () => {
    const result = await probeHttp({ url: `${base}/hang` }, { timeoutMs: 200 })
    expect(result.ok).toBe(false)
    expect(result.detail).toMatch(/TIMEOUT/i)
  })

  it('goes through the unix socket it is given for host:port, keeping the URL (and its Host header) as written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probe-'))
    const socket = join(dir, 'f0.sock')
    const seen: string[] = []
    const viaSocket = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`)
      res.end('ok from the far side')
    })
    await new Promise<void>((resolve) => viaSocket.listen(socket, resolve))
    const asked: string[] = []
    try {
      const result = await probeHttp(
        { url: 'http://127.0.0.1:8080/health', contains: 'far side' },
        { socketPath: async (hostPort) => (asked.push(hostPort), socket) },
      )
      expect(result).toEqual({ ok: true, detail: 'HTTP 200' })
      expect(asked).toEqual(['127.0.0.1:8080'])
      expect(seen).toEqual(['127.0.0.1:8080 /health'])
    } finally {
      await new Promise<void>((resolve) => viaSocket.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('knows the scheme\'s port when the URL names none', () => {
    expect(hostPort(new URL('http://api.internal/health'))).toBe('api.internal:80')
    expect(hostPort(new URL('https://api.internal/health'))).toBe('api.internal:443')
    expect(hostPort(new URL('http://[::1]:9000/'))).toBe('[::1]:9000')
  })

  it('fails without throwing on a malformed url', async () => {
    const result = await probeHttp({ url: 'http://127.0.0.1:${WEB_PORT}/health' })
    expect(result.ok).toBe(false)
    expect(result.detail).not.toBe('')
  })
})
