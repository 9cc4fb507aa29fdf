import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { dockerVersion, inspectMounts, inspectRestartPolicies, inspectState, psAll, psByLabels, psOnNetworks } from '../../../src/docker/docker.js'
import type { Engine } from '../../../src/docker/engine.js'
import { parseContainerState, parseJsonLines, parsePs, parseRestartPolicies } from '../../../src/docker/parse.js'
import { commandsRun, engineRequestsSent, run } from '../../../src/docker/runner.js'
import { engineGet, EngineUnreachable } from '../../../src/docker/socket.js'
import { DockerCommandError, EngineRequestError } from '../../../src/errors.js'
import { waitHealthy, type HealthPlan } from '../../../src/health/wait.js'
import { COMPOSE_LABEL, COMPOSE_SCHEME } from '../../../src/names.js'
import { projectContainers, watchProject } from '../../../src/run/context.js'
import { clearSecrets, mask, registerSecrets } from '../../../src/secrets.js'
import type { Target } from '../../../src/target/target.js'

/**
 * A fake Engine API on a unix socket: what berth reads of the engine (SPEC §1), answered the way dockerd
 * answers it, so the socket client is tested without an engine. The tests change `world` as they go.
 */
interface World {
  containers: Record<string, unknown>[]
  /** Every status answers this instead (an engine in trouble). */
  failWith?: { status: number; message: string }
  /** /events: 'hold' keeps the stream open, 'drop' cuts it as soon as it is open. */
  events: 'hold' | 'drop'
}

let server: Server
let dir: string
let engine: Engine
let world: World
const seen: string[] = []
const streams = new Set<ServerResponse>()

const web = (health: 'starting' | 'healthy' | 'unhealthy', project = 'shop-staging') => ({
  Id: `${project}-web-id`,
  Names: [`/${project}-web-1`],
  Image: 'shop-web:20261203-120000',
  State: 'running',
  Status: health === 'starting' ? 'Up 1 second (health: starting)' : `Up 5 seconds (${health})`,
  Ports: [
    { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 18080, Type: 'tcp' },
    { IP: '::', PrivatePort: 8080, PublicPort: 18080, Type: 'tcp' },
    { PrivatePort: 9000, Type: 'tcp' },
  ],
  Labels: { [COMPOSE_LABEL.project]: project, [COMPOSE_LABEL.service]: 'web', [COMPOSE_LABEL.oneoff]: 'False', note: 'a, b=c' },
  Created: 1764763200,
  NetworkSettings: { Networks: { [`${project}_default`]: {}, shared: {} } },
})

/** The label filters of a request, as dockerd reads them (every one must match). */
function labelFilters(url: URL): string[] {
  const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, Record<string, boolean>>
  return Object.keys(filters.label ?? {})
}

function hasLabels(c: Record<string, unknown>, wanted: readonly string[]): boolean {
  const labels = (c.Labels ?? {}) as Record<string, string>
  return wanted.every((w) => {
    const [key, value] = w.split('=') as [string, string | undefined]
    return value === undefined ? key in labels : labels[key] === value
  })
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://docker')
  seen.push(`${req.method} ${url.pathname}${url.search}`)
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(`${JSON.stringify(body)}\n`)
  }
  if (world.failWith) return json(world.failWith.status, { message: world.failWith.message })
  if (url.pathname === '/_ping') {
    res.writeHead(200, { server: 'Docker/27.3.1 (linux)', 'api-version': '1.47', 'content-type': 'text/plain; charset=utf-8' })
    res.end('OK')
    return
  }
  if (url.pathname === '/info') return json(200, { ID: 'ENGINE:ONE', Name: 'fake' })
  if (url.pathname === '/containers/json') return json(200, world.containers.filter((c) => hasLabels(c, labelFilters(url))))
  const inspect = /^\/containers\/([^/]+)\/json$/.exec(url.pathname)
  if (inspect) {
    const c = world.containers.find((x) => x.Id === decodeURIComponent(inspect[1] as string))
    if (!c) return json(404, { message: `No such container: ${decodeURIComponent(inspect[1] as string)}` })
    const health = String(c.Status).includes('healthy') ? 'running' : 'running'
    return json(200, { Id: c.Id, Name: (c.Names as string[])[0], RestartCount: 2, State: { Status: health, ExitCode: 0 }, HostConfig: { RestartPolicy: { Name: 'always' } }, Mounts: [{ Type: 'volume', Destination: '/data' }] })
  }
  if (url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.flushHeaders()
    if (world.events === 'drop') {
      res.destroy()
      return
    }
    streams.add(res)
    res.on('close', () => streams.delete(res))
    return
  }
  json(404, { message: 'page not found' })
}

/** An event of the project's web container, to every open stream. */
function emit(action: string): void {
  const line = JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'shop-staging-web-id', Attributes: { [COMPOSE_LABEL.project]: 'shop-staging' } }, time: 1 })
  for (const res of streams) res.write(`${line}\n`)
}

const cacheHome = process.env.XDG_CACHE_HOME

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-engine-'))
  // The engine's ID is kept per socket (docker/identity.ts): in this test's own cache directory.
  process.env.XDG_CACHE_HOME = join(dir, 'cache')
  const socket = join(dir, 'docker.sock')
  server = createServer(answer)
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  engine = { host: `unix://${socket}` }
})

afterEach(() => {
  seen.length = 0
  clearSecrets()
  for (const res of streams) res.destroy()
})

afterAll(async () => {
  if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME
  else process.env.XDG_CACHE_HOME = cacheHome
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await rm(dir, { recursive: true, force: true })
})

const target = () => ({ engine, labels: COMPOSE_SCHEME }) as unknown as Target

describe('engine reads over the socket', () => {
  it('lists containers by label with the filters the CLI would send, printed as docker ps prints them, without a docker process', async () => {
    world = { containers: [web('healthy'), web('healthy', 'blog-production')], events: 'hold' }
    const processes = commandsRun()
    const requests = engineRequestsSent()
    const { stdout } = await run(psByLabels(engine, [`${COMPOSE_LABEL.project}=shop-staging`, `${COMPOSE_LABEL.oneoff}=False`]))
    expect(commandsRun()).toBe(processes)
    expect(engineRequestsSent()).toBe(requests + 1)
    expect(seen).toHaveLength(1)
    const url = new URL(seen[0]!.split(' ')[1]!, 'http://docker')
    expect(url.pathname).toBe('/containers/json')
    expect(url.searchParams.get('all')).toBe('1')
    expect(JSON.parse(url.searchParams.get('filters')!)).toEqual({ label: { [`${COMPOSE_LABEL.project}=shop-staging`]: true, [`${COMPOSE_LABEL.oneoff}=False`]: true } })
    expect(parsePs(stdout, COMPOSE_SCHEME)).toEqual([
      {
        id: 'shop-staging-web-id',
        name: 'shop-staging-web-1',
        image: 'shop-web:20261203-120000',
        state: 'running',
        health: 'healthy',
        status: 'Up 5 seconds (healthy)',
        // The CLI's order: unpublished ports and same-number ranges first, then host mappings.
        ports: '9000/tcp, 0.0.0.0:18080->8080/tcp, [::]:18080->8080/tcp',
        // A comma inside a value stays in it (the CLI's joined Labels column would split it).
        labels: { [COMPOSE_LABEL.project]: 'shop-staging', [COMPOSE_LABEL.service]: 'web', [COMPOSE_LABEL.oneoff]: 'False', note: 'a, b=c' },
        networks: ['shared', 'shop-staging_default'],
        project: 'shop-staging',
        service: 'web',
        createdAt: expect.stringMatching(/^2025-12-0\d \d\d:\d\d:00 [+-]\d{4} \w+/) as unknown,
      },
    ])
  })

  it('lists every container, or those on given networks (one key, or-ed)', async () => {
    world = { containers: [web('healthy')], events: 'hold' }
    expect(parsePs((await run(psAll(engine))).stdout, COMPOSE_SCHEME).map((c) => c.name)).toEqual(['shop-staging-web-1'])
    await run(psOnNetworks(engine, ['a', 'b']))
    expect(JSON.parse(new URL(seen[1]!.split(' ')[1]!, 'http://docker').searchParams.get('filters')!)).toEqual({ network: { a: true, b: true } })
  })

  it('inspects containers; one that is gone reads as the CLI has it: exit 1, its error on stderr, the others on stdout', async () => {
    world = { containers: [web('healthy')], events: 'hold' }
    expect(parseContainerState((await run(inspectState(engine, 'shop-staging-web-id'))).stdout)).toEqual({ status: 'running', exitCode: 0, restarts: 2 })
    const gone = await run(inspectState(engine, 'gone-id'), { allowFailure: true })
    expect(gone).toEqual({ stdout: '', stderr: 'Error response from daemon: No such container: gone-id', exitCode: 1 })
    expect(parseContainerState(gone.stdout).status).toBe('removed')
    const both = await run(inspectRestartPolicies(engine, ['shop-staging-web-id', 'gone-id']), { allowFailure: true })
    expect(both.exitCode).toBe(1)
    expect(parseRestartPolicies(both.stdout)).toEqual([{ id: 'shop-staging-web-id', name: 'shop-staging-web-1', restart: 'always' }])
    expect(parseJsonLines((await run(inspectMounts(engine, 'shop-staging-web-id'))).stdout)).toEqual([{ Type: 'volume', Destination: '/data' }])
    await expect(run(inspectState(engine, 'gone-id'))).rejects.toBeInstanceOf(DockerCommandError)
  })

  it("reads the engine's version from /_ping and its ID (the Compose version cache's key) from /info, once per socket", async () => {
    world = { containers: [], events: 'hold' }
    const own = join(dir, 'restarted.sock')
    const listen = async () => {
      const s = createServer(answer)
      await new Promise<void>((resolve) => s.listen(own, resolve))
      return s
    }
    const version = { Server: { Version: '27.3.1' }, ServerID: 'ENGINE:ONE' }
    let engineA = await listen()
    expect(JSON.parse((await run(dockerVersion({ host: `unix://${own}` }))).stdout)).toEqual(version)
    expect(seen).toEqual(['GET /_ping', 'GET /info'])
    // The ID lasts as long as the socket: the next read asks only /_ping (is the engine there, which version).
    seen.length = 0
    expect(JSON.parse((await run(dockerVersion({ host: `unix://${own}` }))).stdout)).toEqual(version)
    expect(seen).toEqual(['GET /_ping'])
    // An engine that starts anew makes its socket anew: /info is asked again.
    engineA.closeAllConnections()
    await new Promise<void>((resolve) => engineA.close(() => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 50))
    engineA = await listen()
    seen.length = 0
    expect(JSON.parse((await run(dockerVersion({ host: `unix://${own}` }))).stdout)).toEqual(version)
    expect(seen).toEqual(['GET /_ping', 'GET /info'])
    engineA.closeAllConnections()
    await new Promise<void>((resolve) => engineA.close(() => resolve()))
  })

  it('an engine answering 500 is an error naming the request and the command it stands for, masked', async () => {
    registerSecrets(['hunter2-secret'])
    world = { containers: [], events: 'hold', failWith: { status: 500, message: 'layer store broke while reading hunter2-secret' } }
    const error = (await run(psByLabels(engine, ['berth.app=shop'])).catch((e: unknown) => e)) as EngineRequestError
    expect(error).toBeInstanceOf(EngineRequestError)
    expect(error).toBeInstanceOf(DockerCommandError)
    expect(error.code).toBe('DOCKER_FAILED')
    expect(error.status).toBe(500)
    expect(error.request).toMatch(/^GET \/containers\/json\?all=1&filters=/)
    expect(error.message).toMatch(/^the Docker engine answered GET \/containers\/json\?all=1&filters=\S+ with HTTP 500 \(for docker --host unix:\/\/\S+ ps --all/)
    expect(error.message).toContain(`layer store broke while reading ${mask('hunter2-secret')}`)
    expect(error.message).not.toContain('hunter2-secret')
    // Allowed to fail: a failed result with the engine's words, as the CLI gives it.
    expect(await run(dockerVersion(engine), { allowFailure: true })).toEqual({ stdout: '', stderr: `Error response from daemon: layer store broke while reading ${mask('hunter2-secret')}`, exitCode: 1 })
  })

  it('falls back to the docker CLI when nothing listens on the socket (it says why in its own words)', async () => {
    const processes = commandsRun()
    const result = await run(psAll({ host: `unix://${join(dir, 'nothing.sock')}` }), { allowFailure: true })
    expect(commandsRun()).toBe(processes + 1)
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toMatch(/Cannot connect to the Docker daemon|nothing\.sock/)
  })
})

describe('the read client (one GET per connection on node:net)', () => {
  /** A server that writes these bytes on every connection once it has read a request, then closes (or not). */
  async function rawServer(reply: string | Buffer, options: { close?: boolean } = {}) {
    const path = join(dir, `raw-${Math.random().toString(16).slice(2)}.sock`)
    const s = createNetServer((socket) => {
      socket.once('data', () => {
        socket.write(reply)
        if (options.close !== false) socket.end()
      })
    })
    await new Promise<void>((resolve) => s.listen(path, resolve))
    return { path, close: () => new Promise<void>((resolve) => s.close(() => resolve())) }
  }

  it('reads a chunked answer, one with a length, and one that ends with the connection', async () => {
    world = { containers: Array.from({ length: 400 }, (_, i) => web('healthy', `shop-env${i}`)), events: 'hold' }
    // A long answer (400 containers) arrives in many reads of the socket.
    const big = await engineGet(join(dir, 'docker.sock'), '/containers/json?all=1')
    expect(big.status).toBe(200)
    expect(big.body).toHaveLength(400)

    const chunked = await rawServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n4\r\n[1,2\r\n3;x=y\r\n,3]\r\n0\r\n\r\n')
    expect(await engineGet(chunked.path, '/x')).toMatchObject({ status: 200, body: [1, 2, 3], headers: { 'content-type': 'application/json' } })
    const sized = await rawServer('HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\n{"message":"no such"}\ntrailing')
    expect(await engineGet(sized.path, '/x')).toMatchObject({ status: 404, body: { message: 'no such' } })
    const untilClose = await rawServer(Buffer.from('HTTP/1.0 200 OK\r\nServer: Docker/27.3.1 (linux)\r\n\r\nOK — ü'))
    expect(await engineGet(untilClose.path, '/_ping')).toEqual({ status: 200, body: 'OK — ü', headers: { server: 'Docker/27.3.1 (linux)' } })
    await Promise.all([chunked.close(), sized.close(), untilClose.close()])
  })

  it('ends a read once its length or its last chunk has arrived, though the connection stays open (a proxy keeping it alive)', async () => {
    const sized = await rawServer('HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n[1,2,3]', { close: false })
    const chunked = await rawServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[1,2\r\n3\r\n,3]\r\n0\r\n\r\n', { close: false })
    const empty = await rawServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', { close: false })
    // A chunk whose data happens to end like the last chunk is not mistaken for it: the read waits (and times out).
    const lookalike = await rawServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\nabc\r\n0\r\n\r\n', { close: false })
    const started = Date.now()
    expect(await engineGet(sized.path, '/x', 5_000)).toMatchObject({ status: 200, body: [1, 2, 3] })
    expect(await engineGet(chunked.path, '/x', 5_000)).toMatchObject({ status: 200, body: [1, 2, 3] })
    expect(await engineGet(empty.path, '/x', 5_000)).toMatchObject({ status: 200, body: '' })
    expect(Date.now() - started).toBeLessThan(4_000)
    await expect(engineGet(lookalike.path, '/x', 300)).rejects.toThrow(/no answer from unix:\/\/\S+ within 300 ms/)
    await Promise.all([sized.close(), chunked.close(), empty.close(), lookalike.close()])
  })

  it('an answer cut short, no answer, or not HTTP is no answer: the CLI is asked instead', async () => {
    const cases = [
      'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"short":',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc',
      'HTTP/1.1 200 OK\r\nContent-',
      'SSH-2.0-OpenSSH_9.2\r\n\r\n',
      '',
    ]
    for (const reply of cases) {
      const s = await rawServer(reply)
      await expect(engineGet(s.path, '/x'), JSON.stringify(reply)).rejects.toBeInstanceOf(EngineUnreachable)
      await s.close()
    }
  })

  it('gives up on an engine that does not answer within the timeout', async () => {
    const silent = await rawServer('', { close: false })
    const started = Date.now()
    await expect(engineGet(silent.path, '/x', 200)).rejects.toThrow(/no answer from unix:\/\/\S+ within 200 ms/)
    expect(Date.now() - started).toBeLessThan(5_000)
    await silent.close()
  })
})

describe('health waits on the event stream', () => {
  const plan = (over: Partial<HealthPlan> = {}): HealthPlan => ({ services: ['web'], oneOff: new Set(), probes: [], timeoutMs: 20_000, intervalMs: 10_000, pollMs: 10_000, ...over })
  const deps = () => ({ run, target: target() })

  function realDeps(onRead?: () => void) {
    return {
      containers: async () => {
        onRead?.()
        return projectContainers(deps(), 'shop-staging')
      },
      changes: (onChange: () => void) => watchProject(deps(), 'shop-staging', onChange),
      probe: async () => ({ ok: true, detail: 'HTTP 200' }),
      sleep: (ms: number, signal?: AbortSignal) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms)
          signal?.addEventListener('abort', () => {
            clearTimeout(timer)
            resolve()
          })
        }),
      now: () => Date.now(),
    }
  }

  it('subscribes to the project\'s state events and sees a container turning healthy within about 100 ms', async () => {
    world = { containers: [web('starting')], events: 'hold' }
    let turnedAt = 0
    setTimeout(() => {
      world.containers = [web('healthy')]
      turnedAt = Date.now()
      emit('health_status: healthy')
    }, 300)
    const started = Date.now()
    const result = await waitHealthy(plan(), realDeps(), () => undefined)
    expect(result.ok).toBe(true)
    // Well before the safety poll (1 s) and the plan's own poll (10 s): the event woke it.
    expect(Date.now() - turnedAt).toBeLessThan(150)
    expect(Date.now() - started).toBeLessThan(900)
    const events = seen.find((s) => s.startsWith('GET /events'))!
    const filters = JSON.parse(new URL(events.split(' ')[1]!, 'http://docker').searchParams.get('filters')!) as Record<string, Record<string, boolean>>
    expect(Object.keys(filters.label!)).toEqual([`${COMPOSE_LABEL.project}=shop-staging`])
    expect(filters.type).toEqual({ container: true })
    expect(Object.keys(filters.event!)).toEqual(expect.arrayContaining(['die', 'start', 'health_status', 'destroy']))
    expect(Object.keys(filters.event!)).not.toContain('exec_start')
    // The stream was closed when the wait ended.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(streams.size).toBe(0)
  })

  it('sees a container dying through its event, long before any poll', async () => {
    world = { containers: [web('starting')], events: 'hold' }
    setTimeout(() => {
      world.containers = [{ ...web('starting'), State: 'exited', Status: 'Exited (1) Less than a second ago' }]
      emit('die')
    }, 200)
    const started = Date.now()
    const result = await waitHealthy(plan(), realDeps(), () => undefined)
    expect(result).toMatchObject({ ok: false, failure: { check: 'service web', lastError: 'shop-staging-web-1 exited: Exited (1) Less than a second ago' } })
    expect(Date.now() - started).toBeLessThan(600)
  })

  it('a dropped event stream hands over to polling, and the wait still finishes', async () => {
    world = { containers: [web('starting')], events: 'drop' }
    let reads = 0
    setTimeout(() => {
      world.containers = [web('healthy')]
    }, 300)
    const result = await waitHealthy(plan({ pollMs: 100 }), realDeps(() => reads++), () => undefined)
    expect(result.ok).toBe(true)
    expect(seen.some((s) => s.startsWith('GET /events'))).toBe(true)
    // No event ever came: polls every 100 ms saw it.
    expect(reads).toBeGreaterThanOrEqual(3)
  })

  it('an engine that answers the events request with 500 is polled', async () => {
    world = { containers: [web('healthy')], events: 'hold' }
    world.failWith = { status: 500, message: 'events broke' }
    const failing = realDeps()
    let calls = 0
    const result = await waitHealthy(
      plan({ pollMs: 50 }),
      {
        ...failing,
        containers: async () => {
          calls++
          if (calls === 2) world.failWith = undefined
          return calls === 1 ? [] : projectContainers(deps(), 'shop-staging')
        },
      },
      () => undefined,
    )
    expect(result.ok).toBe(true)
    expect(calls).toBe(2)
  })
})
