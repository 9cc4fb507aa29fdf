import { describe, expect, it } from 'vitest'

import { currentTasks, judgeService, rollingBack, type SwarmService, type SwarmTask } from '../../../../src/strategy/swarm/converge.js'

const STACK = 'shop-staging'
const spec = { Image: 'r/shop-migrate:2@sha256:aa', Labels: { 'berth.release': '2' } }

function job(iteration: number | undefined, updatedAt = '2026-12-02T10:00:05.000Z'): SwarmService {
  return {
    ID: 'svc',
    UpdatedAt: updatedAt,
    Spec: { Name: `${STACK}_migrate`, TaskTemplate: { ContainerSpec: spec }, Mode: { ReplicatedJob: { TotalCompletions: 1 } } },
    ...(iteration === undefined ? {} : { JobStatus: { JobIteration: { Index: iteration } } }),
  }
}

function task(id: string, state: string, iteration: number | undefined, createdAt = '2026-12-02T10:00:04.000Z'): SwarmTask {
  return { ID: id, ServiceID: 'svc', CreatedAt: createdAt, DesiredState: 'complete', Status: { State: state }, Spec: { ContainerSpec: spec }, ...(iteration === undefined ? {} : { JobIteration: { Index: iteration } }) }
}

describe("a job's current run", () => {
  it("is the tasks of the service's job iteration, even one created before the service was last written", () => {
    // Swarm writes the service again as it starts a run: its UpdatedAt can come after the run's task.
    const s = job(12)
    expect(currentTasks(s, [task('old', 'complete', 11), task('now', 'complete', 12)]).map((t) => t.ID)).toEqual(['now'])
    expect(judgeService(STACK, s, [task('now', 'complete', 12)])).toEqual({ state: 'converged', service: 'migrate' })
  })

  it("does not count an earlier run's completed task, nor wait on an earlier run's failure", () => {
    expect(judgeService(STACK, job(12), [task('old', 'complete', 11), task('now', 'running', 12)])).toEqual({ state: 'waiting', service: 'migrate', why: 'job 0/1 completed' })
    expect(judgeService(STACK, job(12), [task('old', 'failed', 11), task('now', 'complete', 12)])).toEqual({ state: 'converged', service: 'migrate' })
    expect(judgeService(STACK, job(12), [task('now', 'failed', 12)])).toMatchObject({ state: 'failed', why: 'its job did not complete' })
  })

  it('reads an iteration the engine left out of its JSON as index 0 (the first run)', () => {
    const first: SwarmService = { ...job(undefined), JobStatus: { JobIteration: {} } }
    const t = { ...task('first', 'complete', undefined, '2026-12-02T10:00:04.000Z'), JobIteration: {} }
    expect(judgeService(STACK, first, [t])).toEqual({ state: 'converged', service: 'migrate' })
    expect(judgeService(STACK, first, [task('later', 'complete', 5)])).toEqual({ state: 'waiting', service: 'migrate', why: 'job 0/1 completed' })
  })

  it('falls back to the tasks made since the last update on an engine without job iterations', () => {
    const s = job(undefined)
    expect(currentTasks(s, [task('old', 'complete', undefined, '2026-12-02T09:00:00.000Z'), task('now', 'complete', undefined, '2026-12-02T10:00:06.000Z')]).map((t) => t.ID)).toEqual(['now'])
  })
})

describe('a long-running service', () => {
  const webSpec = { Image: 'r/shop-web:2@sha256:bb', Labels: { 'berth.release': '2' } }
  const web: SwarmService = { ID: 'web', Spec: { Name: `${STACK}_web`, TaskTemplate: { ContainerSpec: webSpec }, Mode: { Replicated: { Replicas: 1 } } } }
  const webTask = (id: string, desired: string, state: string, err?: string): SwarmTask => ({
    ID: id,
    ServiceID: 'web',
    DesiredState: desired,
    Status: { State: state, ...(err ? { Err: err } : {}) },
    Spec: { ContainerSpec: webSpec },
  })

  it('says what holds back a task Swarm has not scheduled yet (desired ready, not running)', () => {
    const held = webTask('new', 'ready', 'pending', 'no suitable node (host-mode port already in use on 1 node)')
    expect(judgeService(STACK, web, [held, webTask('old', 'shutdown', 'shutdown')])).toEqual({
      state: 'waiting',
      service: 'web',
      why: '0/1 running (pending: no suitable node (host-mode port already in use on 1 node))',
    })
  })

  it('is converged once a task of its spec runs, whatever ended tasks it has', () => {
    expect(judgeService(STACK, web, [webTask('new', 'running', 'running'), webTask('old', 'shutdown', 'complete')])).toEqual({ state: 'converged', service: 'web' })
  })
})

describe("Swarm's own rollback", () => {
  const service = (name: string, state?: string): SwarmService => ({ ID: name, Spec: { Name: `${STACK}_${name}` }, ...(state ? { UpdateStatus: { State: state } } : {}) })

  it('is under way only while a service is rollback_started', () => {
    expect(rollingBack(STACK, [service('web', 'rollback_started'), service('store', 'completed'), service('migrate')])).toEqual(['web'])
    expect(rollingBack(STACK, [service('web', 'rollback_completed'), service('store', 'updating')])).toEqual([])
  })
})
