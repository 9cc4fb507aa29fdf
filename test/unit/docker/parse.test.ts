import { describe, expect, it } from 'vitest'
import { exitCodeFromStatus, healthFromStatus, normalizeImageRef, parseComposeVersion, parseContainerState, parseImages, parseJsonLines, parseLabels, parsePs, parseRestartPolicies } from '../../../src/docker/parse.js'
import { COMPOSE_SCHEME } from '../../../src/names.js'

describe('parseJsonLines', () => {
  it('reads one JSON array (compose ps of some versions)', () => {
    expect(parseJsonLines('[{"Name":"a"},{"Name":"b"}]\n')).toEqual([{ Name: 'a' }, { Name: 'b' }])
  })

  it('reads one object per line, skipping blank lines', () => {
    expect(parseJsonLines('{"Name":"a"}\n\n{"Name":"b"}\n')).toEqual([{ Name: 'a' }, { Name: 'b' }])
  })

  it('reads nothing from empty or blank output', () => {
    expect(parseJsonLines('')).toEqual([])
    expect(parseJsonLines('  \n')).toEqual([])
  })

  it('throws on output that is not JSON rather than guessing', () => {
    expect(() => parseJsonLines('Error response from daemon')).toThrow()
  })
})

describe('parseLabels', () => {
  it('splits k=v pairs', () => {
    expect(parseLabels('berth.app=shop,berth.env=staging')).toEqual({ 'berth.app': 'shop', 'berth.env': 'staging' })
  })

  it('keeps commas inside a value (compose config_files)', () => {
    const labels = parseLabels(
      'com.docker.compose.project=shop-staging,com.docker.compose.project.config_files=/a.yaml,/b.yaml,com.docker.compose.service=web',
    )
    expect(labels).toEqual({
      'com.docker.compose.project': 'shop-staging',
      'com.docker.compose.project.config_files': '/a.yaml,/b.yaml',
      'com.docker.compose.service': 'web',
    })
  })

  it('keeps = inside a value and empty values', () => {
    expect(parseLabels('a=x=y,b=')).toEqual({ a: 'x=y', b: '' })
  })

  it('keeps depends_on lists whole', () => {
    expect(parseLabels('com.docker.compose.depends_on=db:service_healthy:false,migrate:service_completed_successfully:false,berth.env=staging')).toEqual({
      'com.docker.compose.depends_on': 'db:service_healthy:false,migrate:service_completed_successfully:false',
      'berth.env': 'staging',
    })
  })

  it('reads nothing from an empty string', () => {
    expect(parseLabels('')).toEqual({})
  })
})

describe('healthFromStatus', () => {
  it('reads starting, healthy and unhealthy', () => {
    expect(healthFromStatus('Up 3 seconds (health: starting)')).toBe('starting')
    expect(healthFromStatus('Up 2 minutes (healthy)')).toBe('healthy')
    expect(healthFromStatus('Up 5 minutes (unhealthy)')).toBe('unhealthy')
  })

  it('is empty without a healthcheck', () => {
    expect(healthFromStatus('Up 3 seconds')).toBe('')
    expect(healthFromStatus('Exited (0) 2 seconds ago')).toBe('')
    expect(healthFromStatus('Created')).toBe('')
  })
})

describe('exitCodeFromStatus', () => {
  it('reads the exit code of an exited container', () => {
    expect(exitCodeFromStatus('Exited (137) 2 seconds ago')).toBe(137)
    expect(exitCodeFromStatus('Exited (0) About a minute ago')).toBe(0)
    expect(exitCodeFromStatus('Up 3 seconds')).toBeUndefined()
  })
})

const webLine = JSON.stringify({
  Command: '"/entrypoint.sh"',
  CreatedAt: '2026-11-22 09:30:05 +0000 UTC',
  ID: '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c',
  Image: 'shop-web:20261122-093000',
  Labels:
    'berth.app=shop,berth.env=staging,berth.release=20261122-093000,com.docker.compose.config-hash=9d1c,com.docker.compose.container-number=1,com.docker.compose.oneoff=False,com.docker.compose.project=shop-staging,com.docker.compose.project.config_files=/srv/shop/compose.yaml,/srv/shop/.berth/staging/releases/20261122-093000.yaml,com.docker.compose.project.working_dir=/srv/shop,com.docker.compose.service=web,com.docker.compose.version=2.26.1',
  LocalVolumes: '0',
  Mounts: '',
  Names: 'shop-staging-web-1',
  Networks: 'shop-staging_default',
  Ports: '127.0.0.1:8080->80/tcp',
  RunningFor: '3 seconds ago',
  Size: '0B',
  State: 'running',
  Status: 'Up 3 seconds (health: starting)',
})

const migrateLine = JSON.stringify({
  Command: '"migrate"',
  CreatedAt: '2026-11-22 09:30:01 +0000 UTC',
  ID: 'aa11',
  Image: 'shop-migrate:20261122-093000',
  Labels: 'com.docker.compose.oneoff=False,com.docker.compose.project=shop-staging,com.docker.compose.service=migrate',
  Names: 'shop-staging-migrate-1',
  Ports: '',
  State: 'exited',
  Status: 'Exited (0) 1 second ago',
})

const strayLine = JSON.stringify({
  CreatedAt: '2026-11-20 08:00:00 +0000 UTC',
  ID: 'bb22',
  Image: 'shop-web:latest',
  Labels: '',
  Names: 'web',
  Ports: '0.0.0.0:80->80/tcp, :::80->80/tcp',
  State: 'running',
  Status: 'Up 2 days',
})

describe('parsePs', () => {
  it('reads docker ps --format {{json .}} lines', () => {
    const [web, migrate, stray] = parsePs(`${webLine}\n${migrateLine}\n${strayLine}\n`, COMPOSE_SCHEME)
    expect(web).toEqual({
      id: '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c',
      name: 'shop-staging-web-1',
      image: 'shop-web:20261122-093000',
      state: 'running',
      health: 'starting',
      status: 'Up 3 seconds (health: starting)',
      ports: '127.0.0.1:8080->80/tcp',
      labels: expect.objectContaining({
        'berth.app': 'shop',
        'berth.env': 'staging',
        'berth.release': '20261122-093000',
        'com.docker.compose.project.config_files': '/srv/shop/compose.yaml,/srv/shop/.berth/staging/releases/20261122-093000.yaml',
        'com.docker.compose.project.working_dir': '/srv/shop',
      }),
      networks: ['shop-staging_default'],
      project: 'shop-staging',
      service: 'web',
      createdAt: '2026-11-22 09:30:05 +0000 UTC',
    })
    expect(Object.keys(web?.labels ?? {})).toHaveLength(11)

    expect(migrate).toMatchObject({ name: 'shop-staging-migrate-1', state: 'exited', health: '', service: 'migrate', project: 'shop-staging' })

    // Started by hand (seed 000): no compose project.
    expect(stray).toMatchObject({ name: 'web', state: 'running', health: '', labels: {}, ports: '0.0.0.0:80->80/tcp, :::80->80/tcp' })
    expect(stray?.project).toBeUndefined()
    expect(stray?.service).toBeUndefined()
  })

  it('lower-cases State', () => {
    const [c] = parsePs(JSON.stringify({ ID: 'x', Names: 'n', State: 'Running', Status: 'Up 1 second (healthy)', Labels: '' }), COMPOSE_SCHEME)
    expect(c?.state).toBe('running')
    expect(c?.health).toBe('healthy')
  })
})

describe('parseContainerState', () => {
  it('reads the state, exit code and restart count of inspectState', () => {
    expect(parseContainerState('{"status":"restarting","exitCode":1,"restarts":3}\n')).toEqual({ status: 'restarting', exitCode: 1, restarts: 3 })
    expect(parseContainerState('')).toEqual({ status: 'removed', exitCode: 0, restarts: 0 })
  })
})

describe('parseImages', () => {
  it('reads repository and tag', () => {
    const text = '{"Containers":"N/A","CreatedAt":"2026-11-22 09:30:00 +0000 UTC","ID":"sha256:1","Repository":"shop-web","Tag":"20261122-093000","Size":"12MB"}\n'
    expect(parseImages(text)).toEqual([{ repository: 'shop-web', tag: '20261122-093000' }])
  })
})

describe('normalizeImageRef', () => {
  it('names Docker Hub official images the short way, with a tag', () => {
    expect(normalizeImageRef('postgres')).toBe('postgres:latest')
    expect(normalizeImageRef('postgres:16')).toBe('postgres:16')
    expect(normalizeImageRef('docker.io/library/postgres:16')).toBe('postgres:16')
    expect(normalizeImageRef('library/postgres')).toBe('postgres:latest')
    expect(normalizeImageRef('docker.io/bitnami/redis')).toBe('bitnami/redis:latest')
  })

  it('does not take a registry port for a tag', () => {
    expect(normalizeImageRef('registry:5000/team/web')).toBe('registry:5000/team/web:latest')
    expect(normalizeImageRef('registry:5000/team/web:1.2')).toBe('registry:5000/team/web:1.2')
  })

  it('leaves digests alone', () => {
    const ref = 'postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
    expect(normalizeImageRef(ref)).toBe(ref)
  })

  it('makes equivalent references equal', () => {
    expect(normalizeImageRef('docker.io/library/nginx')).toBe(normalizeImageRef('nginx:latest'))
  })
})

describe('parseComposeVersion', () => {
  it('reads the json form with a v prefix', () => {
    expect(parseComposeVersion('{"version":"v2.26.1"}')).toEqual({ version: '2.26.1', major: 2 })
  })

  it('reads a distribution suffix', () => {
    expect(parseComposeVersion('{"version":"2.26.1-4"}')).toEqual({ version: '2.26.1-4', major: 2 })
  })

  it('reads plain text', () => {
    expect(parseComposeVersion('Docker Compose version v2.26.1\n')).toEqual({ version: '2.26.1', major: 2 })
  })

  it('reads compose v1 text as major 1', () => {
    expect(parseComposeVersion('docker-compose version 1.29.2, build 5becea4c')).toEqual({ version: '1.29.2', major: 1 })
  })

  it('gives major 0 for text without a version', () => {
    expect(parseComposeVersion('unknown command "compose"').major).toBe(0)
  })
})

describe('parseRestartPolicies', () => {
  it('strips the leading slash of inspect names', () => {
    expect(parseRestartPolicies('{"id":"a1","name":"/web","restart":""}\n{"id":"b2","name":"/shop-staging-db-1","restart":"unless-stopped"}')).toEqual([
      { id: 'a1', name: 'web', restart: '' },
      { id: 'b2', name: 'shop-staging-db-1', restart: 'unless-stopped' },
    ])
  })
})
