import { describe, expect, it } from 'vitest'

import type { Container } from '../../../../src/docker/parse.js'
import { containerFailures } from '../../../../src/strategy/blueGreen/watch.js'

function container(service: string, state: string, status: string, health = ''): Container {
  return { id: service, name: `shop-prod-green-${service}-1`, image: 'x', state, health, status, ports: '', labels: {}, service, createdAt: '' }
}

describe('containerFailures (what fails a watched colour)', () => {
  it('passes running containers, healthy or without a healthcheck, and still starting ones', () => {
    expect(containerFailures([container('web', 'running', 'Up 3s (healthy)', 'healthy'), container('worker', 'running', 'Up 3s'), container('api', 'running', 'Up 1s (health: starting)', 'starting')])).toEqual([])
  })

  it('fails an unhealthy, restarting, exited or dead container, naming it', () => {
    const found = containerFailures([
      container('web', 'running', 'Up 9s (unhealthy)', 'unhealthy'),
      container('worker', 'restarting', 'Restarting (1) 2 seconds ago'),
      container('api', 'exited', 'Exited (137) 1 second ago'),
      container('cron', 'dead', 'Dead'),
    ])
    expect(found).toEqual([
      { service: 'web', why: 'shop-prod-green-web-1 is unhealthy' },
      { service: 'worker', why: 'shop-prod-green-worker-1 is restarting' },
      { service: 'api', why: 'shop-prod-green-api-1 exited (Exited (137) 1 second ago)' },
      { service: 'cron', why: 'shop-prod-green-cron-1 dead (Dead)' },
    ])
  })

  it('lets a one-off job end with 0, but not with another code, nor a long-running service end with 0', () => {
    const oneOff = new Set(['migrate'])
    expect(containerFailures([container('migrate', 'exited', 'Exited (0) 5 seconds ago')], oneOff)).toEqual([])
    expect(containerFailures([container('migrate', 'exited', 'Exited (1) 5 seconds ago')], oneOff)).toHaveLength(1)
    expect(containerFailures([container('web', 'exited', 'Exited (0) 5 seconds ago')], oneOff)).toHaveLength(1)
  })
})
