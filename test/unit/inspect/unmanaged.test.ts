import { describe, expect, it } from 'vitest'
import { type Container, parsePs } from '../../../src/docker/parse.js'
import { COMPOSE_SCHEME } from '../../../src/names.js'
import { findUnmanaged, guessEnvironment } from '../../../src/inspect/unmanaged.js'

const TAG = '20261122-093000'
const HASH = { web: 'a'.repeat(64), store: 'b'.repeat(64) }

/** One line of `docker ps --format` JSON, as the engine prints it. */
function psLine(name: string, image: string, labels: Record<string, string>, over: Record<string, string> = {}): string {
  return JSON.stringify({
    ID: `${name}-id`,
    Names: name,
    Image: image,
    State: 'running',
    Status: 'Up 5 minutes (healthy)',
    Ports: '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: '2026-11-22 09:30:05 +0000 UTC',
    ...over,
  })
}

/** Labels of a container berth's `up` created for release `tag`. */
function berthLabels(env: string, service: string, tag = TAG, hash = HASH[service as keyof typeof HASH]): Record<string, string> {
  return {
    'berth.app': 'shop',
    'berth.env': env,
    'berth.release': tag,
    'berth.service': service,
    'com.docker.compose.config-hash': hash,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.depends_on': 'store:service_healthy:false,migrate:service_completed_successfully:false',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.project': `shop-${env}`,
    'com.docker.compose.service': service,
    'com.docker.compose.version': '2.26.1',
  }
}

/** Labels a compose-built berth image carries, which `docker run` of it passes on to the container. */
const imageLabels = { 'berth.app': 'shop', 'berth.release': TAG, 'berth.service': 'web', 'com.docker.compose.project': 'shop-staging', 'com.docker.compose.service': 'web', 'com.docker.compose.version': '2.26.1' }

function ps(...lines: string[]): Container[] {
  return parsePs(lines.join('\n'), COMPOSE_SCHEME)
}

const healthyStaging = () => ps(psLine('shop-staging-web-1', `shop-web:${TAG}`, berthLabels('staging', 'web')), psLine('shop-staging-store-1', `shop-store:${TAG}`, berthLabels('staging', 'store')))

describe('findUnmanaged', () => {
  const envs = ['staging', 'production', 'preview', 'preview-42']

  it('finds containers named, built or labelled like the app but outside its environments', () => {
    const containers = ps(
      ...healthyStaging().map((c) => psLine(c.name, c.image, c.labels)),
      psLine('shop-web-manual', `shop-web:${TAG}`, imageLabels, { State: 'exited', Status: 'Exited (137) 2 hours ago' }),
      psLine('shop_service-registry_1', 'shop-service-registry:latest', {}),
      psLine('shop-production-api', 'node:20', {}),
      psLine('frontend-updated', 'registry.example.com/team/shop-frontend:1.2', {}),
      psLine('postgres', 'postgres:16', {}),
      psLine('shop-admin-staging-web-1', 'shop-admin-web:1', { 'berth.app': 'shop-admin', 'berth.env': 'staging', 'com.docker.compose.project': 'shop-admin-staging', 'com.docker.compose.oneoff': 'False' }),
      psLine('shop-monitoring-grafana-1', 'grafana/grafana', { 'com.docker.compose.project': 'shop-monitoring', 'com.docker.compose.oneoff': 'False' }),
    )
    const found = findUnmanaged('shop', envs, containers)
    expect(found.map((u) => [u.name, u.reasons, u.environment, u.command])).toEqual([
      // In code-point order ("-" before "_"), the same whatever the locale (src/order.ts).
      ['frontend-updated', ['image'], undefined, 'docker rm -f frontend-updated && berth deploy ENV'],
      ['shop-production-api', ['name'], 'production', 'docker rm -f shop-production-api && berth deploy production'],
      ['shop-web-manual', ['name', 'image', 'label'], undefined, 'docker rm -f shop-web-manual && berth deploy ENV'],
      ['shop_service-registry_1', ['name', 'image'], undefined, 'docker rm -f shop_service-registry_1 && berth deploy ENV'],
    ])
    expect(found.find((u) => u.name === 'shop-web-manual')).toMatchObject({ state: 'exited', image: `shop-web:${TAG}` })
  })

  it('finds compose projects of the app that are no environment: `compose up` by hand, a removed environment', () => {
    const byHand = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'com.docker.compose.oneoff': 'False' }
    const removed = { ...berthLabels('preview-7', 'web'), 'com.docker.compose.project': 'shop-preview-7' }
    const found = findUnmanaged('shop', envs, ps(psLine('shop-web-1', 'shop-web', byHand), psLine('shop-preview-7-web-1', `shop-web:${TAG}`, removed)))
    expect(found.map((u) => [u.name, u.project, u.reasons, u.command])).toEqual([
      ['shop-preview-7-web-1', 'shop-preview-7', ['name', 'image', 'label', 'project'], 'docker compose -p shop-preview-7 down'],
      ['shop-web-1', 'shop', ['name', 'image', 'project'], 'docker compose -p shop down && berth deploy ENV'],
    ])
  })
})

describe('guessEnvironment', () => {
  const envs = ['staging', 'preview', 'preview-42']

  it('takes berth.env when it names an environment, else the longest environment the name starts with', () => {
    expect(guessEnvironment('shop', envs, { name: 'x', labels: { 'berth.env': 'staging' } })).toBe('staging')
    expect(guessEnvironment('shop', envs, { name: 'shop-preview-42-web-1', labels: {} })).toBe('preview-42')
    expect(guessEnvironment('shop', envs, { name: 'shop_preview_web_1', labels: {} })).toBe('preview')
    expect(guessEnvironment('shop', envs, { name: 'shop-stagingx', labels: {} })).toBeUndefined()
    expect(guessEnvironment('shop', envs, { name: 'shop-web-manual', labels: {} })).toBeUndefined()
  })
})

