import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

import { LIVE_ROOT } from '../../../src/edge/caddy.js'
import { ADMIN_ROOT, initialConfig } from '../../../src/edge/config.js'
import { ensureEdge, refuseDamagedEdge } from '../../../src/edge/lifecycle.js'
import { type Files, localFiles } from '../../../src/target/files.js'
import { localTarget } from '../../../src/target/local.js'
import type { Target } from '../../../src/target/target.js'
import { testDeps } from '../support/deps.js'
import { callsTo, fakeRunner } from '../support/fakeRunner.js'

/**
 * The edge of another host (SPEC §10): its directories are that host's edge directory, reached through the
 * target's files; the compose file compose reads is written to this machine's edgeWorkDir; the admin API is
 * reached through the socket the target forwards. The "host" here is a directory of the test, its files
 * this machine's, seen as root's (berth logs in there as root).
 */

const ENGINE = 'unix:///b/docker.sock'
const EDGE_ROW = JSON.stringify({ ID: 'edge1', Names: 'berth-edge-caddy-1', Image: 'berth-edge:local', State: 'running', Status: 'Up 1 second', Ports: '', Labels: 'com.docker.compose.project=berth-edge,berth.edge=true' })

let dir: string
let admin: Server
let adminSocket: string

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-unit-edge-host-'))
  adminSocket = join(dir, 'forwarded-admin.sock')
  // Caddy as it answers once started with berth's initial config.
  admin = createServer((_req, res) => res.end(JSON.stringify(initialConfig())))
  await new Promise<void>((resolve) => admin.listen(adminSocket, resolve))
})

afterEach(async () => {
  await new Promise((resolve) => admin.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

/** A target on "another host": its edge directory <dir>/host/edge, this machine's edgeWorkDir <dir>/work/edge. */
function remoteTarget(run: ReturnType<typeof fakeRunner>['run'], uid = 0): { target: Target; forwarded: string[]; touched: string[] } {
  const forwarded: string[] = []
  const touched: string[] = []
  const files: Files = {
    ...localFiles,
    mkdir: async (path, mode) => {
      touched.push(path)
      await localFiles.mkdir(path, mode)
    },
    stat: async (path) => {
      touched.push(path)
      const st = await localFiles.stat(path)
      return st && { ...st, uid: 0 }
    },
  }
  const local = localTarget({ stateDir: join(dir, 'state'), run, engine: { host: ENGINE } })
  const target: Target = {
    ...local,
    description: 'ssh://root@b',
    host: {
      ...local.host,
      files,
      socket: async (path) => {
        forwarded.push(path)
        return adminSocket
      },
      edgeDir: async () => join(dir, 'host', 'edge'),
      edgeWorkDir: join(dir, 'work', 'edge'),
      uid: async () => uid,
    },
  }
  return { target, forwarded, touched }
}

describe('ensureEdge on another host', () => {
  it("starts the edge on that host's engine, with that host's directories and its compose files on this machine", async () => {
    const hostEdge = join(dir, 'host', 'edge')
    const workEdge = join(dir, 'work', 'edge')
    const mounts = JSON.stringify([
      { Type: 'bind', Source: join(hostEdge, 'live'), Destination: LIVE_ROOT },
      { Type: 'bind', Source: join(hostEdge, 'admin'), Destination: ADMIN_ROOT },
    ])
    const runner = fakeRunner()
      .expect(`docker --host ${ENGINE} ps`, { stdout: '' })
      .expect(`docker --host ${ENGINE} compose -p berth-edge up`)
      .expect(`docker --host ${ENGINE} ps`, { stdout: EDGE_ROW })
      .expect(`docker --host ${ENGINE} inspect --type container --format {{json .Mounts}} edge1`, { stdout: mounts })
    const { target, forwarded, touched } = remoteTarget(runner.run)
    const deps = testDeps({ run: runner.run, target, stateDir: join(dir, 'state') })

    const edge = await ensureEdge(deps, { image: 'berth-edge:local' }, join(dir, 'state'))
    expect(runner.pending()).toEqual([])
    expect(edge.liveDir).toBe(join(hostEdge, 'live'))
    expect(edge.files).toBe(target.host.files)
    // The admin socket of the host's admin directory, forwarded to this machine.
    expect(forwarded).toEqual([join(hostEdge, 'admin', 'admin.sock')])
    expect(edge.admin.address).toBe(adminSocket)
    // The host's directories, made and checked through the target's files.
    expect(touched).toEqual(expect.arrayContaining([join(hostEdge, 'live'), join(hostEdge, 'admin')]))
    expect((statSync(join(hostEdge, 'admin')).mode & 0o777).toString(8)).toBe('700')
    // Compose reads its files here, and they name the host's directories.
    const [up] = callsTo(runner, `docker --host ${ENGINE} compose -p berth-edge up`)
    const option = (name: string) => up?.argv[up.argv.indexOf(name) + 1]
    expect([option('--file'), option('--env-file'), option('--project-directory')]).toEqual([join(workEdge, 'compose.yaml'), join(workEdge, 'edge.env'), workEdge])
    const doc = parse(readFileSync(join(workEdge, 'compose.yaml'), 'utf8')) as { services: { caddy: { volumes: unknown[] } } }
    expect(doc.services.caddy.volumes).toEqual([
      'berth-edge-data:/data',
      { type: 'bind', source: join(hostEdge, 'live'), target: LIVE_ROOT, read_only: true },
      { type: 'bind', source: join(hostEdge, 'admin'), target: ADMIN_ROOT },
    ])
    expect(await localFiles.stat(join(hostEdge, 'compose.yaml'))).toBeUndefined()
  })
})

describe('refuseDamagedEdge on another host', () => {
  it("checks the admin directory the edge will be started with in that host's edge directory", async () => {
    const runner = fakeRunner().expect(`docker --host ${ENGINE} ps`, { stdout: '' })
    const { target, touched } = remoteTarget(runner.run)
    await refuseDamagedEdge(testDeps({ run: runner.run, target }), 'shop', 'production')
    expect(runner.pending()).toEqual([])
    expect(touched).toEqual([join(dir, 'host', 'edge', 'admin')])
  })
})
