import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { asNobody, berth, copyFixtures, docker, filesUnder, httpGet, repoRoot, requireEngine, startBerth } from './engine.js'
import { cleanAppB, dockerB, HOST_B, HOST_B_ADDR, HOST_B_SOCKET, requireHostB } from './hostB.js'

/**
 * SPEC §9 on another host (SPEC §10): a blue-green environment on the second host (hostB.ts) behind that
 * host's own edge — its container on that engine, its live markers and root-only admin directory in that
 * host's edge directory (BERTH_EDGE_DIR of its SSH sessions) — reached by berth through its one SSH
 * connection, and by the load of this suite from this side at the second host's address.
 */

const APP = 'berthrbg'
const PROJECTS = ['production', 'production-blue', 'production-green']
const LISTEN = 19291
const EDGE_B = `http://${HOST_B_ADDR}:${LISTEN}`
/** The edge's directory on host B (scripts/second-host.sh), which this machine's file system shares. */
const HOST_B_EDGE = '/var/lib/berth-host-b/edge'
const MARKERS = join(HOST_B_EDGE, 'live', APP, 'production')
const EDGE_FILTER = 'label=com.docker.compose.project=berth-edge'

let root: string
let dir: string
/** This machine's edge directory for the berth this suite runs: a deploy to host B must write nothing there. */
let localEdgeDir: string
const savedEdgeDir = process.env.BERTH_EDGE_DIR
/** What host B and this engine had of an edge before the suite: it leaves them as it found them. */
const before = { edgeB: '', edgeDirB: false, imageB: false, localEdges: '' }
const tags = { v1: '', v2: '' }

function setVersion(version: string): void {
  writeFileSync(join(root, 'app', 'web', 'www', 'version'), `${version}\n`)
}

const edgeContainersB = () => dockerB('ps', '--all', '--quiet', '--no-trunc', '--filter', EDGE_FILTER)
const localEdgeContainers = () => docker('ps', '--all', '--quiet', '--no-trunc', '--filter', EDGE_FILTER)
const psB = (project: string) => dockerB('ps', '--all', '--filter', `label=com.docker.compose.project=${APP}-${project}`, '--format', '{{.Label "com.docker.compose.service"}} {{.State}}')

function releases(): { tag: string; status: string; colour?: string }[] {
  return (JSON.parse(berth(dir, ['releases', 'production', '--json']).stdout) as { releases: { tag: string; status: string; colour?: string }[] }).releases
}

function coloursOf(): { live: string; idle?: { colour: string; release: string } } | undefined {
  return (JSON.parse(berth(dir, ['status', 'production', '--json']).stdout) as { environments: { colours: { live: string; idle?: { colour: string; release: string } } }[] }).environments[0]?.colours
}

/** Everything of the app on host B, by project and label; the edge there only if the suite started it. */
function cleanAll(): void {
  cleanAppB(APP, PROJECTS)
  rmSync(join(HOST_B_EDGE, 'live', APP), { recursive: true, force: true })
  if (before.edgeB) return
  spawnSync('docker', ['compose', '-p', 'berth-edge', 'down', '--volumes', '--timeout', '1'], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
  if (!before.edgeDirB) rmSync(HOST_B_EDGE, { recursive: true, force: true })
}

/** One answer of the steady load: when its request was sent, and what came back (status 0: no answer). */
interface Answer {
  sentAt: number
  status: number
  body: string
}

/** Requests to host B's route, one after another every 20 ms, from this side, until stopped. */
function steadyLoad(): { answers: Answer[]; stop: () => Promise<void> } {
  const answers: Answer[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const sentAt = Date.now()
      const res = await httpGet(`${EDGE_B}/version`).catch(() => ({ status: 0, body: '' }))
      answers.push({ sentAt, ...res })
      await sleep(20)
    }
  })()
  return {
    answers,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

describe('blue-green on another host', () => {
  beforeAll(() => {
    requireEngine()
    requireHostB()
    before.edgeB = edgeContainersB()
    before.edgeDirB = existsSync(HOST_B_EDGE)
    before.imageB = spawnSync('docker', ['image', 'inspect', 'berth-edge:local'], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } }).status === 0
    before.localEdges = localEdgeContainers()
    localEdgeDir = mkdtempSync(join(tmpdir(), 'berth-e2e-rbg-local-edgedir-'))
    process.env.BERTH_EDGE_DIR = localEdgeDir
    // The edge image, built on host B's engine as on this one: no registry needed.
    execFileSync('bash', [join(repoRoot, 'scripts', 'edge-image.sh')], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
    cleanAll()
    root = copyFixtures()
    dir = join(root, 'remote-bluegreen')
    setVersion('v1')
    const r = berth(dir, ['deploy', 'production'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/starting the edge proxy \(compose project berth-edge, berth-edge:local\)/)
    tags.v1 = releases()[0]?.tag ?? ''
  }, 240_000)

  afterAll(() => {
    cleanAll()
    if (!before.imageB) spawnSync('docker', ['image', 'rm', 'berth-edge:local'], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: HOST_B_SOCKET } })
    if (root) rmSync(root, { recursive: true, force: true })
    rmSync(localEdgeDir, { recursive: true, force: true })
    if (savedEdgeDir === undefined) delete process.env.BERTH_EDGE_DIR
    else process.env.BERTH_EDGE_DIR = savedEdgeDir
  })

  it("runs the edge on host B's engine, its live marker and root-only admin directory in host B's edge directory", async () => {
    expect(await httpGet(`${EDGE_B}/version`)).toEqual({ status: 200, body: 'v1' })
    expect(psB('production')).toBe('store running')
    expect(psB('production-blue')).toBe('web running')
    // The edge is host B's: its container runs there, and this engine has no edge it did not have before.
    const [edge] = edgeContainersB().split('\n')
    expect(dockerB('inspect', '--format', '{{.State.Status}} {{.HostConfig.NetworkMode}}', edge as string)).toBe('running host')
    expect(localEdgeContainers()).toBe(before.localEdges)
    expect(localEdgeContainers().split('\n')).not.toContain(edge)
    const mounts = JSON.parse(dockerB('inspect', '--format', '{{json .Mounts}}', edge as string)) as { Type: string; Source: string; Destination: string }[]
    expect(mounts.filter((m) => m.Type === 'bind').map((m) => `${m.Destination} ${m.Source}`).sort()).toEqual([`/berth/admin ${HOST_B_EDGE}/admin`, `/berth/live ${HOST_B_EDGE}/live`])
    expect(readdirSync(MARKERS)).toEqual(['blue'])
    // Root's alone, as on this machine: the socket there refuses any other user.
    const admin = statSync(join(HOST_B_EDGE, 'admin'))
    expect([admin.uid, (admin.mode & 0o777).toString(8)]).toEqual([0, '700'])
    expect(statSync(join(HOST_B_EDGE, 'admin', 'admin.sock')).isSocket()).toBe(true)
    const read = asNobody(['curl', '-sS', '--max-time', '5', '--unix-socket', join(HOST_B_EDGE, 'admin', 'admin.sock'), '-H', 'Host: berth', 'http://berth/config/'])
    expect(read.code).toBe(7)
    // The compose file compose read is this machine's; nothing went to this machine's edge directory.
    expect(existsSync(join(HOST_B_EDGE, 'compose.yaml'))).toBe(false)
    expect(existsSync(join(dir, '.berth', '.remote', `root@${HOST_B_ADDR}`, 'edge', 'compose.yaml'))).toBe(true)
    expect(filesUnder(localEdgeDir)).toEqual([])
    // Doctor checks host B's edge, for the environment that runs there.
    const doctor = JSON.parse(berth(dir, ['doctor', '--json']).stdout) as { checks: { id: string; status: string; engine?: string }[] }
    expect(doctor.checks.filter((c) => c.id === 'edge')).toEqual([expect.objectContaining({ status: 'ok', engine: HOST_B })])
  })

  it('deploys the next release and rolls back under a steady load from this side: no request fails, each answered by the expected release', async () => {
    const load = steadyLoad()
    const at = { deployed: 0, rollbackStart: 0, rolledBack: 0 }
    try {
      await sleep(500)
      setVersion('v2')
      const deploy = await startBerth(dir, ['deploy', 'production']).done
      at.deployed = Date.now()
      expect(deploy.code, deploy.stderr).toBe(0)
      expect(deploy.stderr).toMatch(/switch production routes to green/)
      expect(readdirSync(MARKERS)).toEqual(['green'])
      expect(psB('production-blue')).toBe('web exited')
      tags.v2 = releases()[0]?.tag ?? ''
      await sleep(1000)
      at.rollbackStart = Date.now()
      const rollback = await startBerth(dir, ['rollback', 'production']).done
      at.rolledBack = Date.now()
      expect(rollback.code, rollback.stderr).toBe(0)
      expect(rollback.stderr).toMatch(/start the warm blue colour of production/)
      expect(rollback.stderr).not.toMatch(/\bbuild\b/)
      await sleep(1000)
    } finally {
      await load.stop()
    }
    const { answers } = load
    expect(answers.filter((a) => a.status !== 200 || !['v1', 'v2'].includes(a.body))).toEqual([])
    expect(answers.length).toBeGreaterThan(100)
    // v1 until the switch, v2 until the switch back, then v1: never back and forth.
    expect(answers.map((a) => a.body).filter((body, i, all) => body !== all[i - 1])).toEqual(['v1', 'v2', 'v1'])
    expect(new Set(answers.filter((a) => a.sentAt > at.deployed && a.sentAt < at.rollbackStart).map((a) => a.body))).toEqual(new Set(['v2']))
    expect(new Set(answers.filter((a) => a.sentAt > at.rolledBack).map((a) => a.body))).toEqual(new Set(['v1']))

    expect(readdirSync(MARKERS)).toEqual(['blue'])
    expect(coloursOf()).toMatchObject({ live: 'blue', idle: { colour: 'green', release: tags.v2 } })
    expect(releases().find((r) => r.tag === tags.v1)).toMatchObject({ status: 'active', colour: 'blue' })
    expect(psB('production-blue')).toBe('web running')
    expect(psB('production-green')).toBe('web exited')
    expect(psB('production')).toBe('store running')
    expect(localEdgeContainers()).toBe(before.localEdges)
    expect(filesUnder(localEdgeDir)).toEqual([])
  }, 120_000)

  it("takes the environment down with its routes and its marker on host B's edge", async () => {
    const r = berth(dir, ['down', 'production'])
    expect(r.code, r.stderr).toBe(0)
    for (const p of PROJECTS) expect(psB(p)).toBe('')
    expect(existsSync(MARKERS)).toBe(false)
    expect((await httpGet(`${EDGE_B}/version`).catch(() => ({ status: 0, body: '' }))).status).not.toBe(200)
  })
})
