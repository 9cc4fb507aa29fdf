#!/usr/bin/env node
// One open-loop HTTP load in a process of its own, for the availability benchmark (issue 13): berth's runs,
// docker calls and the benchmark's own bookkeeping happen in other processes, so they cannot starve it, and
// it reports how late it was against its own schedule and how long its event loop stalled, so a reader can
// tell a slow server from a starved client.
//
// As a library (the parent): `startLoadProcess({ targets: [{ via, port }], rps, client, timeoutMs })` forks
// this file, which sends GET path to 127.0.0.1:port of each target, rps per second each, interleaved on one
// schedule (so the targets share the client and its stalls), until `stop()`, then hands back every request. Times are
// absolute (performance.timeOrigin + performance.now(), ms) in the child and converted to the parent's
// performance.now() here, so they line up with the parent's timestamps of berth's lines.
//
// A request is sent at its scheduled time whatever happened to earlier ones (open loop: an outage cannot
// slow the client down and hide itself) and gets timeoutMs in all, counted from when it is sent (time
// queued for a keep-alive socket included). It fails on a non-2xx answer, a connection error or the timeout.
// Clients: keep-alive = http.Agent({ keepAlive: true, maxSockets: 8 }); new-conn = a new TCP connection per
// request (agent: false). Only node: built-ins.

import { fork } from 'node:child_process'
import http from 'node:http'
import { getPriority, setPriority } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const abs = () => performance.timeOrigin + performance.now()

/** What went wrong with one request, in a few words that group well. */
function errorKind(error) {
  if (error?.message === 'socket hang up') return 'socket hang up'
  return error?.code ?? error?.message ?? String(error)
}

// --------------------------------------------------------------------------------------------- the child

/**
 * The load: every 1000/rps ms one request to each target (their order alternating), so that several targets
 * share one client and its stalls, and differences between them are the servers'.
 */
function startLoad({ host = '127.0.0.1', targets, path = '/version', rps, client, timeoutMs }) {
  const agents = targets.map(() => (client === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 8 }) : false))
  const loop = monitorEventLoopDelay({ resolution: 5 })
  loop.enable()
  const interval = 1000 / rps
  const startedAt = abs()
  const results = targets.map(() => [])
  let slots = 0
  let inflight = 0
  let stopped = false
  let stoppedAt
  let drained
  let timer
  const allDone = new Promise((r) => (drained = r))

  const fire = (t, scheduledAt) => {
    const sentAt = abs()
    inflight++
    let finished = false
    let timedOut = false
    let reused = false
    let assignedAt
    const finish = (ok, kind, body) => {
      if (finished) return
      finished = true
      clearTimeout(deadline)
      inflight--
      results[t].push({ scheduledAt, sentAt, assignedAt, doneAt: abs(), ok, kind, body, reused })
      if (stopped && inflight === 0) drained()
    }
    const req = http.get({ host, port: targets[t].port, path, agent: agents[t] }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        const okStatus = res.statusCode >= 200 && res.statusCode < 300
        finish(okStatus, okStatus ? undefined : `HTTP ${res.statusCode}`, body.trim())
      })
      res.on('error', (e) => finish(false, timedOut ? 'timeout' : errorKind(e)))
    })
    // When the request got its socket: a keep-alive request may wait in the agent for one of its 8 first.
    req.on('socket', () => {
      assignedAt = abs()
      reused = req.reusedSocket
    })
    req.on('error', (e) => finish(false, timedOut ? 'timeout' : errorKind(e)))
    // Checked after the next poll phase: an answer that arrived while this process was descheduled is read
    // first, so a late timer does not count it as a timeout.
    const deadline = setTimeout(() => {
      setImmediate(() => {
        if (finished) return
        timedOut = true
        req.destroy(new Error('timeout'))
      })
    }, timeoutMs)
  }

  // Every slot that is due goes now, each request stamped with when it was due; then sleep until the next.
  const tick = () => {
    if (stopped) return
    const now = abs()
    while (startedAt + slots * interval <= now) {
      const at = startedAt + slots * interval
      for (let i = 0; i < targets.length; i++) fire((slots + i) % targets.length, at)
      slots++
    }
    timer = setTimeout(tick, Math.max(0, startedAt + slots * interval - abs()))
  }
  tick()

  return {
    startedAt,
    async stop() {
      stopped = true
      stoppedAt = abs()
      clearTimeout(timer)
      if (inflight > 0) await allDone
      loop.disable()
      for (const agent of agents) if (agent) agent.destroy()
      const ms = (ns) => Math.round(ns / 1e5) / 10
      return { startedAt, stoppedAt, slots, results, loopDelay: { p99: ms(loop.percentile(99)), max: ms(loop.max) } }
    },
  }
}

/**
 * The load stands for clients on other machines: it runs at a higher priority (nice LOAD_NICE, when this
 * process may raise it), so that builds and tests sharing this machine delay the servers it measures, not it.
 */
export const LOAD_NICE = -10

function runChild() {
  try {
    setPriority(0, LOAD_NICE)
  } catch {
    // not permitted: it runs at the priority it was given, and the parent reports which.
  }
  let load
  process.on('message', async (msg) => {
    if (msg.type === 'start') {
      load = startLoad(msg.options)
      process.send({ type: 'started', startedAt: load.startedAt, nice: getPriority(0) })
    } else if (msg.type === 'stop') {
      const out = load ? await load.stop() : { slots: 0, results: [] }
      process.send({ type: 'result', ...out }, () => process.disconnect())
    }
  })
  // The parent went away: nothing to report to.
  process.on('disconnect', () => process.exit(0))
}

if (process.argv[2] === '--child' && process.send) runChild()

// -------------------------------------------------------------------------------------------- the parent

/**
 * Forks a load process and starts the load on `targets` ([{ via, port }]). `ready` resolves once it runs
 * (with its start in the parent's performance.now()); `stop()` stops sending, waits for the requests in
 * flight (each within its timeout) and resolves with { startedAt, stoppedAt, loopDelay, nice, late, targets },
 * times in the parent's performance.now(): nice is the process's priority, late the p99 and max of how long
 * after its scheduled time a request was sent (ms), and targets[i] = { via, port, sent, rate, results } with
 * rate the requests sent to it per second between start and stop.
 */
export function startLoadProcess(options) {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const local = (t) => (t === undefined ? undefined : t - performance.timeOrigin)
  let onResult
  let onStarted
  let nice
  const result = new Promise((resolve, reject) => {
    onResult = resolve
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`the load process exited ${code} before it reported`)))
  })
  const ready = new Promise((resolve) => (onStarted = resolve))
  child.on('message', (msg) => {
    if (msg.type === 'started') {
      nice = msg.nice
      onStarted(local(msg.startedAt))
    } else if (msg.type === 'result') onResult(msg)
  })
  child.send({ type: 'start', options })
  return {
    ready,
    async stop() {
      child.send({ type: 'stop' })
      const r = await result
      const seconds = (r.stoppedAt - r.startedAt) / 1000
      const targets = options.targets.map((t, i) => {
        const results = r.results[i].map((x) => ({ ...x, scheduledAt: local(x.scheduledAt), sentAt: local(x.sentAt), assignedAt: local(x.assignedAt), doneAt: local(x.doneAt) }))
        return { ...t, sent: results.length, rate: results.length / seconds, results }
      })
      const late = targets.flatMap((t) => t.results.map((x) => x.sentAt - x.scheduledAt)).sort((a, b) => a - b)
      const pick = (q) => (late.length ? Math.round(late[Math.min(late.length - 1, Math.floor(q * late.length))]) : 0)
      return { startedAt: local(r.startedAt), stoppedAt: local(r.stoppedAt), loopDelay: r.loopDelay, nice, late: { p99: pick(0.99), max: late.length ? Math.round(late.at(-1)) : 0 }, targets }
    },
  }
}
