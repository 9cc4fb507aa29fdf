import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

import { edgeComposeFile, edgePaths, edgeTarget } from '../../../src/edge/edge.js'

describe('edgeComposeFile', () => {
  it('is deterministic and runs Caddy on the host network, resuming its autosaved config', () => {
    const text = edgeComposeFile({ image: 'berth-edge:local', adminPort: 19190 }, '/var/lib/berth-edge/live')
    expect(edgeComposeFile({ image: 'berth-edge:local', adminPort: 19190 }, '/var/lib/berth-edge/live')).toBe(text)
    const doc = parse(text) as Record<string, any>
    expect(doc.name).toBe('berth-edge')
    expect(doc.services.caddy).toMatchObject({
      image: 'berth-edge:local',
      network_mode: 'host',
      restart: 'unless-stopped',
      command: ['caddy', 'run', '--resume', '--config', '/etc/berth-edge/initial.json'],
      environment: { XDG_CONFIG_HOME: '/data/config', XDG_DATA_HOME: '/data/data' },
      // The live markers' directory, read-only: only berth on the host switches them.
      volumes: ['berth-edge-data:/data', { type: 'bind', source: '/var/lib/berth-edge/live', target: '/berth/live', read_only: true }],
      labels: { 'berth.edge': 'true' },
    })
    expect(doc.volumes['berth-edge-data'].name).toBe('berth-edge-data')
    expect(JSON.parse(doc.configs.initial.content)).toEqual({ admin: { listen: '127.0.0.1:19190' }, apps: { http: { servers: {} } } })
  })

  it('keeps its files in /var/lib/berth-edge, or BERTH_EDGE_DIR, never in an app\'s state directory', () => {
    expect(edgePaths({})).toEqual({
      dir: '/var/lib/berth-edge',
      live: '/var/lib/berth-edge/live',
      composeFile: '/var/lib/berth-edge/compose.yaml',
      envFile: '/var/lib/berth-edge/edge.env',
    })
    expect(edgePaths({ BERTH_EDGE_DIR: '/srv/edge/' }).live).toBe('/srv/edge/live')
    expect(edgeTarget(edgePaths({ BERTH_EDGE_DIR: '/srv/edge' }))).toEqual({
      project: 'berth-edge',
      files: ['/srv/edge/compose.yaml'],
      envFile: '/srv/edge/edge.env',
      projectDirectory: '/srv/edge',
    })
  })
})
