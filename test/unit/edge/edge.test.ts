import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

import { edgeComposeFile, edgeTarget } from '../../../src/edge/composeFile.js'
import { adminDirProblems, refuseNotRoot } from '../../../src/edge/lifecycle.js'
import { edgePaths, hostEdgePaths } from '../../../src/edge/paths.js'
import { localTarget } from '../../../src/target/local.js'
import { NO_STATE } from '../support/deps.js'

describe('edgeComposeFile', () => {
  it('is deterministic and runs Caddy on the host network, resuming its autosaved config', () => {
    const paths = edgePaths({})
    const text = edgeComposeFile({ image: 'berth-edge:local' }, paths)
    expect(edgeComposeFile({ image: 'berth-edge:local' }, paths)).toBe(text)
    const doc = parse(text) as Record<string, any>
    expect(doc.name).toBe('berth-edge')
    expect(doc.services.caddy).toMatchObject({
      image: 'berth-edge:local',
      network_mode: 'host',
      restart: 'unless-stopped',
      // Whatever the image's ENTRYPOINT: none (caddy:2) or caddy itself (many custom builds).
      entrypoint: ['caddy'],
      command: ['run', '--resume', '--config', '/etc/berth-edge/initial.json'],
      environment: { XDG_CONFIG_HOME: '/data/config', XDG_DATA_HOME: '/data/data' },
      volumes: [
        'berth-edge-data:/data',
        // The live markers' directory, read-only: only berth on the host switches them.
        { type: 'bind', source: '/var/lib/berth-edge/live', target: '/berth/live', read_only: true },
        // Root's alone: Caddy makes its admin socket there, so no other user can reach the admin API.
        { type: 'bind', source: '/var/lib/berth-edge/admin', target: '/berth/admin' },
      ],
      labels: { 'berth.edge': 'true' },
    })
    expect(doc.volumes['berth-edge-data'].name).toBe('berth-edge-data')
    expect(JSON.parse(doc.configs.initial.content)).toEqual({ admin: { listen: 'unix//berth/admin/admin.sock', origins: ['berth'] }, apps: { http: { servers: {} } } })
  })

  it('keeps its files in /var/lib/berth-edge, or BERTH_EDGE_DIR, never in an app\'s state directory', () => {
    expect(edgePaths({})).toEqual({
      dir: '/var/lib/berth-edge',
      live: '/var/lib/berth-edge/live',
      admin: '/var/lib/berth-edge/admin',
      composeFile: '/var/lib/berth-edge/compose.yaml',
      envFile: '/var/lib/berth-edge/edge.env',
    })
    expect(edgePaths({ BERTH_EDGE_DIR: '/srv/edge/' }).live).toBe('/srv/edge/live')
    expect(edgeTarget({ target: localTarget({ stateDir: NO_STATE }) }, edgePaths({ BERTH_EDGE_DIR: '/srv/edge' }))).toEqual({
      engine: {},
      project: 'berth-edge',
      files: ['/srv/edge/compose.yaml'],
      envFile: '/srv/edge/edge.env',
      projectDirectory: '/srv/edge',
    })
  })

  it("keeps another host's directories in that host's edge directory, and the files compose reads in this machine's edgeWorkDir", async () => {
    const paths = await hostEdgePaths({ edgeDir: async () => '/var/lib/berth-host-b/edge', edgeWorkDir: '/app/.berth/.remote/root@b/edge' })
    expect(paths).toEqual({
      dir: '/var/lib/berth-host-b/edge',
      live: '/var/lib/berth-host-b/edge/live',
      admin: '/var/lib/berth-host-b/edge/admin',
      composeFile: '/app/.berth/.remote/root@b/edge/compose.yaml',
      envFile: '/app/.berth/.remote/root@b/edge/edge.env',
    })
    const target = localTarget({ stateDir: NO_STATE, engine: { host: 'unix:///tmp/b/docker.sock' } })
    expect(edgeTarget({ target }, paths)).toEqual({
      engine: { host: 'unix:///tmp/b/docker.sock' },
      project: 'berth-edge',
      files: ['/app/.berth/.remote/root@b/edge/compose.yaml'],
      envFile: '/app/.berth/.remote/root@b/edge/edge.env',
      projectDirectory: '/app/.berth/.remote/root@b/edge',
    })
    // This machine's: its edge directory holds them all.
    expect(await hostEdgePaths({ edgeDir: async () => '/srv/edge' })).toEqual(edgePaths({ BERTH_EDGE_DIR: '/srv/edge' }))
  })
})

describe('adminDirProblems', () => {
  it('accepts only a directory of root that no other user may enter', () => {
    expect(adminDirProblems('/e/admin', { uid: 0, mode: 0o40700 })).toEqual([])
    expect(adminDirProblems('/e/admin', { uid: 0, mode: 0o40755 })).toEqual(['the edge\'s admin directory /e/admin is mode 755: other users may enter it and reach the admin socket'])
    expect(adminDirProblems('/e/admin', { uid: 1000, mode: 0o40710 })).toEqual([
      'the edge\'s admin directory /e/admin is owned by uid 1000, not root',
      'the edge\'s admin directory /e/admin is mode 710: other users may enter it and reach the admin socket',
    ])
  })
})

describe('refuseNotRoot', () => {
  it('refuses a blue-green run of any user but root before anything changes (exit 2): only root opens the admin socket', () => {
    expect(() => refuseNotRoot(0)).not.toThrow()
    expect(() => refuseNotRoot(1000)).toThrow(/blue-green environments need root: the edge's admin API is reachable by root only, and berth runs as uid 1000/)
    try {
      refuseNotRoot(1000)
    } catch (error) {
      expect(error).toMatchObject({ code: 'EDGE_ROOT_ONLY', exitCode: 2, hint: 'Run berth as root (sudo berth …). Nothing was changed.' })
    }
  })

  it("names the SSH login when the edge's host is another machine", () => {
    expect(() => refuseNotRoot(0, 'ssh://deploy@10.0.0.5')).not.toThrow()
    expect(() => refuseNotRoot(1000, 'ssh://deploy@10.0.0.5')).toThrow(
      "blue-green environments need root: the edge's admin API on ssh://deploy@10.0.0.5 is reachable by root only, and berth's SSH login there is uid 1000",
    )
  })
})
