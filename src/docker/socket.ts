import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createHash } from '../crypto.js'

import type { Agent, IncomingMessage } from 'node:http'
import { connect } from 'node:net'

import { builtin } from '../http/builtin.js'
import type { Engine } from './engine.js'

/**
 * The Engine API over a unix socket (SPEC §1: reads only). Which socket an engine is, as the docker CLI
 * would find it, and the requests. An engine that is not a unix socket (tcp://,
 * ssh://, a context whose endpoint is one of those, anything this cannot resolve) has none: its reads stay
 * on the CLI.
 */

export const DEFAULT_SOCKET = '/var/run/docker.sock'

/**
 * The socket path of an engine, or undefined. `shellVariables`: whether DOCKER_HOST / DOCKER_CONTEXT of `env`
 * reach the command (the runner of a pinned environment leaves them out). Precedence as the CLI's: --host,
 * --context, DOCKER_HOST, DOCKER_CONTEXT, the config's current context, the default socket.
 */
export function engineSocket(engine: Engine, env: NodeJS.ProcessEnv, shellVariables: boolean): string | undefined {
  if (engine.host) return unixPath(engine.host)
  if (engine.context) return contextSocket(engine.context, env)
  if (shellVariables && env.DOCKER_HOST) return unixPath(env.DOCKER_HOST)
  if (shellVariables && env.DOCKER_CONTEXT) return contextSocket(env.DOCKER_CONTEXT, env)
  const current = currentContext(env)
  return current ? contextSocket(current, env) : DEFAULT_SOCKET
}

function unixPath(host: string): string | undefined {
  return host.startsWith('unix://') && host.length > 'unix://'.length ? host.slice('unix://'.length) : undefined
}

function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker')
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

function currentContext(env: NodeJS.ProcessEnv): string | undefined {
  const name = readJson(join(configDir(env), 'config.json'))?.currentContext
  return typeof name === 'string' && name !== '' && name !== 'default' ? name : undefined
}

/** A context's docker endpoint, from the CLI's context store (meta/<sha256 of the name>/meta.json). */
function contextSocket(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name === 'default') return env.DOCKER_HOST ? unixPath(env.DOCKER_HOST) : DEFAULT_SOCKET
  const meta = readJson(join(configDir(env), 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json'))
  const host = (meta?.Endpoints as { docker?: { Host?: unknown } } | undefined)?.docker?.Host
  return typeof host === 'string' ? unixPath(host) : undefined
}

/** What an answer of the engine was: its status and its body (JSON when it is JSON). */
export interface EngineAnswer {
  status: number
  body: unknown
  /** The answer's headers (lowercase names), where there was an answer. */
  headers?: Record<string, string | string[] | undefined>
}

/** No answer came (nothing listens, no permission, the connection dropped): the CLI says why in its own words. */
export class EngineUnreachable extends Error {}

/**
 * A read is one GET on a connection of its own (`Connection: close`), written and read here on node:net: the
 * engine answers with a status line, headers and a body, chunked or not, then closes (the read ends as soon as
 * the body's own framing says it is whole, whether or not the connection closes). node:http's client costs a
 * command's first request about 6 ms before the request leaves (measured from a fresh process: 9 ms for a
 * /_ping that node:net answers in 3 ms), more than the whole engine check (issue 15); a unix socket's connection
 * costs next to nothing. Not undici either: loading it and compiling its WebAssembly parser costs about 0.1 s and
 * 40 MB. The event stream, which stays open and arrives line by line, is node:http's (loaded only then).
 */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

export function rawGet(socketPath: string, path: string, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    const chunks: Buffer[] = []
    let received = 0
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from unix://${socketPath} within ${timeoutMs} ms`)), timeoutMs)
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`))
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      // An answer whose length (or last chunk) has arrived is read: a socket proxy that keeps the connection
      // open despite `Connection: close` must not make the read wait for its timeout.
      const raw = answerComplete(chunks, received)
      if (!raw) return
      clearTimeout(timer)
      socket.destroy()
      try {
        resolve(parseAnswer(raw))
      } catch (error) {
        reject(error as Error)
      }
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      try {
        resolve(parseAnswer(Buffer.concat(chunks)))
      } catch (error) {
        reject(error as Error)
      }
    })
  })
}

/**
 * The whole answer, once what has been read holds all of it by its own framing (its Content-Length, or a chunked
 * body's last chunk); undefined while more is to come, or when only the end of the connection can tell (no
 * length, trailers after the last chunk).
 */
function answerComplete(chunks: readonly Buffer[], received: number): Buffer | undefined {
  const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received)
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const head = raw.subarray(0, end).toString('latin1')
  const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?:\r\n|$)/i.exec(head)?.[1]
  if (/\r\ntransfer-encoding:[^\r]*\bchunked\b/i.test(head)) {
    // dockerd ends a chunked body with a last chunk and no trailers: 0, CRLF, CRLF.
    if (!raw.subarray(raw.length - 7).toString('latin1').endsWith('\r\n0\r\n\r\n') && raw.length !== end + 9) return undefined
    try {
      dechunk(raw.subarray(end + 4))
      return raw
    } catch {
      return undefined
    }
  }
  if (length !== undefined) return raw.length >= end + 4 + Number(length) ? raw : undefined
  return undefined
}

/** An HTTP/1.1 answer read to its end: the status line, the headers, the body (de-chunked; to its length, or to the end). */
export function parseAnswer(raw: Buffer): RawAnswer {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(raw.length === 0 ? 'the engine closed the connection without an answer' : 'the engine\'s answer ended within its headers')
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]
  if (status === undefined) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine.slice(0, 40))}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value
    }
  }
  let body = raw.subarray(end + 4)
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body)
  else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length'])
    if (!Number.isInteger(length) || length > body.length) throw new Error('the engine\'s answer ended before its body')
    body = body.subarray(0, length)
  }
  return { status: Number(status), headers, body: body.toString('utf8') }
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    if (lineEnd < 0) throw new Error('the engine\'s answer ended within a chunk')
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isInteger(size) || size < 0) throw new Error('the engine\'s answer has a malformed chunk')
    if (size === 0) return Buffer.concat(parts)
    const start = lineEnd + 2
    if (start + size > body.length) throw new Error('the engine\'s answer ended within a chunk')
    parts.push(body.subarray(start, start + size))
    at = start + size + 2
  }
}

/** node:http, for the event stream only: required when the first stream opens (see rawGet). */
let agent: Agent | undefined

function get(socketPath: string, path: string, options: { signal?: AbortSignal }): Promise<IncomingMessage> {
  const http = builtin<typeof import('node:http')>('node:http')
  agent ??= new http.Agent({ keepAlive: true, maxSockets: 8 })
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'GET', agent, headers: { host: 'docker' }, ...(options.signal ? { signal: options.signal } : {}) }, resolve)
    req.on('error', reject)
    req.end()
  })
}

async function text(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8')
  let out = ''
  for await (const chunk of res) out += String(chunk)
  return out
}

const CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'EPERM'])

function connectFailed(error: unknown): boolean {
  return CONNECT_ERRORS.has((error as { code?: string }).code ?? '')
}

/** One GET; the body parsed when it is JSON. Throws EngineUnreachable when no answer comes. */
export async function engineGet(socketPath: string, path: string, timeoutMs = 30_000): Promise<EngineAnswer> {
  let answer: RawAnswer
  try {
    answer = await rawGet(socketPath, path, timeoutMs)
  } catch (error) {
    // Refused, reset, cut short, timed out: no answer to read, so the CLI is asked instead and says what it sees.
    throw new EngineUnreachable(String((error as Error).message))
  }
  let parsed: unknown = answer.body
  if (/^[[{]/.test(answer.body.trim())) {
    try {
      parsed = JSON.parse(answer.body)
    } catch {
      parsed = answer.body
    }
  }
  return { status: answer.status, body: parsed, headers: answer.headers }
}

/**
 * A streamed GET (/events): each line of the body to `onLine` as it arrives, until the engine ends it or
 * `signal` aborts. Resolves with the status the engine answered: 0 when aborted, -1 when the stream was cut.
 */
export async function engineStream(socketPath: string, path: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<EngineAnswer> {
  let res: IncomingMessage
  try {
    res = await get(socketPath, path, signal ? { signal } : {})
  } catch (error) {
    if (signal?.aborted) return { status: 0, body: '' }
    if (connectFailed(error)) throw new EngineUnreachable(String((error as Error).message))
    return { status: -1, body: String((error as Error).message) }
  }
  const status = res.statusCode ?? 0
  if (status >= 400) return { status, body: await text(res).catch(() => '') }
  res.setEncoding('utf8')
  let rest = ''
  try {
    for await (const chunk of res) {
      rest += String(chunk)
      let nl
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim()
        rest = rest.slice(nl + 1)
        if (line) onLine(line)
      }
    }
  } catch {
    // Aborted by the caller, or dropped: either way the stream has ended.
    return signal?.aborted ? { status: 0, body: '' } : { status: -1, body: 'the event stream was cut' }
  }
  if (signal?.aborted) return { status: 0, body: '' }
  // The engine ended a stream that only ends when asked: it was cut (the engine stopped, the connection went).
  return { status: -1, body: 'the event stream ended' }
}

/** The engine's own words for a failed request: the `message` of its JSON error, else the body. */
export function engineMessage(answer: EngineAnswer): string {
  const body = answer.body as { message?: unknown } | string
  if (typeof body === 'object' && body && typeof body.message === 'string') return body.message
  return typeof body === 'string' ? body.trim() : JSON.stringify(body)
}
