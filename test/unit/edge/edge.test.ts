import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

import { defaultLiveDir, edgeComposeFile, edgeTarget } from '../../../src/edge/edge.js'

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

  it('mounts /var/lib/berth-edge/live unless BERTH_EDGE_DIR names another directory', () => {
    expect(defaultLiveDir({})).toBe('/var/lib/berth-edge/live')
    expect(defaultLiveDir({ BERTH_EDGE_DIR: '/srv/edge' })).toBe('/srv/edge/live')
  })

  it('lives under <stateDir>/edge with an env file of its own', () => {
    expect(edgeTarget('/srv/shop/.berth')).toEqual({
      project: 'berth-edge',
      files: ['/srv/shop/.berth/edge/compose.yaml'],
      envFile: '/srv/shop/.berth/edge/edge.env',
      projectDirectory: '/srv/shop/.berth/edge',
    })
  })
})
