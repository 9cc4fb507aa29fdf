import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request the server got, as it got it. */
export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** How the server answers its n-th request (0-based): a status and body, or `hang` (never answers). */
export type Answer = { status: number; body?: string } | 'hang'

export interface WebhookServer {
  /** http://127.0.0.1:PORT */
  origin: string
  received: Received[]
  /** Resolves once `count` requests have come in (for a CLI run in another process). */
  waitFor(count: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 (a free port) that records every request and answers as `answer` says. */
export async function startWebhookServer(answer: (n: number, req: Received) => Answer = () => ({ status: 200, body: 'ok' })): Promise<WebhookServer> {
  const received: Received[] = []
  const waiters: { count: number; resolve: () => void }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const got: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body }
      const reply = answer(received.length, got)
      received.push(got)
      for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve()
      if (reply === 'hang') return
      res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (received.length >= count) return resolve()
        const timer = setTimeout(() => reject(new Error(`the webhook server got ${received.length} requests, not ${count}`)), timeoutMs)
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) })
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The real delivery policy's shape, scaled down so a test of a dead endpoint takes a fraction of a second. */
export const QUICK_DELIVERY = { attempts: 3, backoffMs: [25, 100], requestTimeoutMs: 300, deadlineMs: 800 }

/**
 * A file's webhook servers: `server()` starts one, and every one started is closed after each test (register
 * `closeAll` with afterEach).
 */
export function webhookServers(): { server: (answer?: (n: number) => Answer) => Promise<WebhookServer>; closeAll: () => Promise<void> } {
  const started: WebhookServer[] = []
  return {
    server: async (answer) => {
      const s = await startWebhookServer(answer)
      started.push(s)
      return s
    },
    closeAll: async () => {
      await Promise.all(started.splice(0).map((s) => s.close()))
    },
  }
}
