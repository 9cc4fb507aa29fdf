import { stat, statfs } from 'node:fs/promises'

import type { Config, EnvironmentConfig } from '../config/types.js'
import { dockerRootDir, inspectRestartPolicies, psAll } from '../docker/docker.js'
import { type Container, parsePs, parseRestartPolicies, type RestartPolicyRow } from '../docker/parse.js'
import { BerthError, ExitCode } from '../errors.js'
import { recordedModel } from '../health/gate.js'
import { type ComposeModel, oneOffServices } from '../release/model.js'
import type { Deps } from '../run/context.js'
import { strategyOf } from '../strategy/strategy.js'
import { type EnvironmentDrift, environmentDrift, findUnmanaged, type UnmanagedContainer } from '../inspect/drift.js'
import { checkEngine, type EngineInfo } from '../target/engine.js'
import { auditDamage, type AuditDamage } from '../state/audit.js'
import { describeHolder, type LockInfo, lockPath, parseLock } from '../state/lock.js'
import { addressPoolUsage, POOL_SNIPPET, type PoolUsage } from '../preflight/addressPools.js'
import { describeSharedName, type SharedNameFinding, sharedNameFindings } from '../preflight/sharedNetworks.js'
import { findActive, readReleases, type ReleaseRecord } from '../state/releases.js'
import { type DamagedFile, damagedState, readOrDamaged } from '../state/damage.js'
import { shellWord } from '../state/files.js'
import { COMPOSE_LABEL } from '../names.js'
import { environmentsWithState } from '../state/paths.js'
import { type Check, type CheckId, plural } from './check.js'
import { findPortClashes, sharedPorts } from '../inspect/hostPorts.js'

export interface DoctorReport {
  app: string
  /** 0: every check ok or warn · 1: a check failed · 6: the engine or Compose v2 is unavailable. */
  exitCode: number
  checks: Check[]
  unmanaged: UnmanagedContainer[]
  drift: ({ environment: string } & EnvironmentDrift)[]
}

/** Below this, the next build or pull may fill the disk the engine keeps images on. */
export const MIN_FREE_BYTES = 2 * 1024 ** 3

const ENGINE_DOWN = 'not checked: the Docker engine does not answer'

/**
 * SPEC §4 doctor: host checks, each ok, warn or fail with a hint. Checks that need the engine are
 * reported as not checked when it does not answer; the others (env files, locks, ports between recorded
 * configs) still run. Docker calls: version, compose version, one `ps` of the host, one `inspect` of the
 * app's containers and one `info`, however many environments there are.
 */
export async function doctor(config: Config, deps: Deps): Promise<DoctorReport> {
  const envs = [...config.environments.values()]
  const actives = await Promise.all(envs.map(async (env) => activeRelease(deps, env)))

  let engine: EngineInfo | BerthError
  try {
    engine = await checkEngine(deps)
  } catch (error) {
    if (!(error instanceof BerthError) || error.exitCode !== ExitCode.engineUnavailable) throw error
    engine = error
  }
  const checks: Check[] = engineChecks(engine)
  const envFiles = envFileCheck(await Promise.all(envs.map(async (env) => envFileMode(env))))
  const locks = lockCheck(await readLocks(deps, config), deps.target.runs.hostname, (pid) => deps.target.runs.alive({ pid, host: deps.target.runs.hostname }) === true)
  const state = stateCheck(await stateFindings(deps, config))
  if (engine instanceof BerthError) {
    const notChecked = (id: CheckId): Check => ({ id, status: 'warn', summary: ENGINE_DOWN, details: [] })
    checks.push(
      notChecked('restart-policies'),
      notChecked('unmanaged'),
      notChecked('drift'),
      portCheck(actives, undefined),
      notChecked('shared-networks'),
      notChecked('network-pools'),
      envFiles,
      locks,
      state,
      notChecked('disk'),
    )
    return report(config.app, checks, [], [])
  }

  const containers = parsePs((await deps.run(psAll(deps.target.engine))).stdout)
  const managed = containers.filter((c) => envs.some((e) => strategyOf(e).projects(e).includes(c.project ?? '')) && c.labels[COMPOSE_LABEL.oneoff] !== 'True')
  // allowFailure: a container removed between ps and inspect makes inspect exit 1, the others still print.
  const policies = managed.length > 0 ? parseRestartPolicies((await deps.run(inspectRestartPolicies(deps.target.engine, managed.map((c) => c.id)), { allowFailure: true })).stdout) : []
  const unmanaged = findUnmanaged(config.app, [...config.environments.keys()], containers)
  // Drift is judged on what serves (a blue-green environment's idle colour is stopped on purpose).
  const servingProjects = new Map(await Promise.all(actives.map(async ({ env }) => [env.name, await strategyOf(env).serving(deps, config, env)] as const)))
  // An environment whose records are damaged has no baseline to compare with: the state check reports it.
  const drift = await Promise.all(
    actives.filter((a) => !a.damaged).map(async ({ env, record }) => ({
      environment: env.name,
      ...environmentDrift(record, containers.filter((c) => servingProjects.get(env.name)?.includes(c.project ?? '')), engine.compose),
    })),
  )
  checks.push(
    restartCheck(actives, managed, policies),
    unmanagedCheck(unmanaged),
    driftCheck(drift, actives),
    portCheck(actives, containers),
    sharedNetworkCheck(sharedNameFindings(envs, containers)),
    networkPoolCheck(await addressPoolUsage(deps)),
    envFiles,
    locks,
    state,
    await diskCheck(deps),
    ...(await strategyChecks(deps, config, envs)),
  )
  return report(config.app, checks, unmanaged, drift)
}

/** What each strategy of the app's environments checks on the host (blue-green: the edge), once per strategy. */
async function strategyChecks(deps: Deps, config: Config, envs: readonly EnvironmentConfig[]): Promise<Check[]> {
  const strategies = [...new Set(envs.map((env) => strategyOf(env)))]
  const checks = await Promise.all(strategies.map((strategy) => strategy.hostChecks(deps, config, envs.filter((env) => strategyOf(env) === strategy))))
  return checks.flat()
}

export interface ActiveRelease {
  env: EnvironmentConfig
  record?: ReleaseRecord
  /** The record's resolved config; undefined when there is no active release or its file is gone. */
  model?: ComposeModel
  /** The release records do not read (the state check's finding). */
  damaged?: true
}

async function activeRelease(deps: Deps, env: EnvironmentConfig): Promise<ActiveRelease> {
  // Damaged records are the state check's finding: the other checks see no active release.
  const read = await readOrDamaged(readReleases(deps.target.state, env.name))
  if (!read.ok) return { env, damaged: true }
  const record = findActive(read.value)
  if (!record) return { env }
  try {
    return { env, record, model: await recordedModel({ env, target: deps.target }, record) }
  } catch {
    return { env, record }
  }
}

function report(app: string, checks: Check[], unmanaged: UnmanagedContainer[], drift: DoctorReport['drift']): DoctorReport {
  return { app, exitCode: doctorExitCode(checks), checks, unmanaged, drift }
}

/** 6 when the engine or Compose is unavailable (as every command, SPEC §4), else 1 when any check failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => (c.id === 'engine' || c.id === 'compose') && c.status === 'fail')) return ExitCode.engineUnavailable
  return checks.some((c) => c.status === 'fail') ? ExitCode.unexpected : ExitCode.ok
}

export function engineChecks(engine: EngineInfo | BerthError): Check[] {
  if (!(engine instanceof BerthError)) {
    return [
      { id: 'engine', status: 'ok', summary: `Docker Engine ${engine.server} answers`, details: [] },
      { id: 'compose', status: 'ok', summary: `Docker Compose ${engine.compose}`, details: [] },
    ]
  }
  const failed = (id: CheckId): Check => ({ id, status: 'fail', summary: engine.message, details: [], ...(engine.hint ? { hint: engine.hint } : {}) })
  // checkEngine asks the engine first: a Compose error means the engine itself answered.
  if (engine.code.startsWith('COMPOSE_')) return [{ id: 'engine', status: 'ok', summary: 'the Docker engine answers', details: [] }, failed('compose')]
  return [failed('engine'), { id: 'compose', status: 'warn', summary: ENGINE_DOWN, details: [] }]
}

/**
 * Seed 001: containers with restart `no` (or none) or `on-failure` do not come back when the host or
 * the engine restarts. One-off services (migrations others wait on) are meant to stay exited.
 */
export function restartCheck(actives: readonly ActiveRelease[], containers: readonly Container[], policies: readonly RestartPolicyRow[]): Check {
  const oneOff = new Map(actives.map((a) => [a.env.project, a.model ? oneOffServices(a.model) : new Set<string>()]))
  const envOf = new Map(actives.map((a) => [a.env.project, a.env.name]))
  const flagged: string[] = []
  let checked = 0
  for (const c of containers) {
    if (c.service && oneOff.get(c.project ?? '')?.has(c.service)) continue
    const policy = policies.find((p) => p.id === c.id)
    if (!policy) continue
    checked++
    const restart = policy.restart || 'no'
    if (restart === 'always' || restart === 'unless-stopped') continue
    flagged.push(`${c.name} (${envOf.get(c.project ?? '') ?? c.project}/${c.service ?? '?'}): restart ${restart}`)
  }
  if (flagged.length === 0) return { id: 'restart-policies', status: 'ok', summary: `${checked} long-running container${plural(checked)} restart${checked === 1 ? 's' : ''} after a reboot`, details: [] }
  return {
    id: 'restart-policies',
    status: 'fail',
    summary: `${flagged.length} container${plural(flagged.length)} will not come back after a reboot or engine restart`,
    details: flagged,
    hint: 'Set restart: unless-stopped on those services in the compose file (berth adds it to services that have no restart policy) and deploy again; for a container recreated by hand, berth deploy ENV --tag <active release> recreates it as recorded.',
  }
}

export function unmanagedCheck(unmanaged: readonly UnmanagedContainer[]): Check {
  if (unmanaged.length === 0) return { id: 'unmanaged', status: 'ok', summary: 'no hand-started containers of the app', details: [] }
  return {
    id: 'unmanaged',
    status: 'warn',
    summary: `${unmanaged.length} container${plural(unmanaged.length)} of the app ${unmanaged.length === 1 ? 'is' : 'are'} outside berth's environments`,
    details: unmanaged.map((u) => `${u.name} (${u.image}, ${u.state}${u.project ? `, compose project ${u.project}` : ''}): ${u.command}`),
    hint: 'They have no release record, drift from the compose file and often have no restart policy (seeds 000, 001). Move any setting they were started with into the compose file or env file (see docker inspect NAME), then run the command shown.',
  }
}

export function driftCheck(drift: readonly ({ environment: string } & EnvironmentDrift)[], actives: readonly ActiveRelease[]): Check {
  const details = drift.flatMap((d) => [
    ...d.drift.map((i) => `${d.environment}: ${i.service}${i.container ? ` ${i.container}` : ''}: ${i.message}`),
    ...(d.driftNote ? [`${d.environment}: ${d.driftNote}`] : []),
  ])
  const compared = actives.filter((a) => a.record).length
  if (details.length === 0) return { id: 'drift', status: 'ok', summary: `${compared} environment${plural(compared)} run${compared === 1 ? 's' : ''} as recorded`, details: [] }
  const envs = drift.filter((d) => d.drift.length > 0 || d.driftNote)
  const redeploy = envs
    .map((d) => {
      const tag = actives.find((a) => a.env.name === d.environment)?.record?.tag
      return tag ? `berth deploy ${d.environment} --tag ${tag}` : `berth deploy ${d.environment}`
    })
    .join('; ')
  return {
    id: 'drift',
    status: 'warn',
    summary: `${envs.map((d) => d.environment).join(', ')} ${envs.length === 1 ? 'differs' : 'differ'} from the active release record`,
    details,
    hint: `Put any change you mean to keep into the compose files or env file, then re-apply: ${redeploy}`,
  }
}

/**
 * Seed 003: two environments whose recorded configs publish the same host port cannot both run; and a
 * port the app publishes that a container of another project holds makes the next deploy refuse.
 * `running` undefined: the engine did not answer, so only the recorded configs are compared.
 */
export function portCheck(actives: readonly ActiveRelease[], running: readonly Container[] | undefined): Check {
  const withModel = actives.filter((a): a is ActiveRelease & { model: ComposeModel } => a.model !== undefined)
  const clashes: string[] = []
  withModel.forEach((a, i) => {
    for (const b of withModel.slice(i + 1)) {
      for (const { port, serviceA, serviceB } of sharedPorts(a.model, b.model)) {
        clashes.push(`host port ${port.port}/${port.protocol}: ${a.env.name} (${serviceA}) and ${b.env.name} (${serviceB}) both publish it`)
      }
    }
  })
  if (running) {
    const appProjects = new Set(actives.map((a) => a.env.project))
    const others = running.filter((c) => !appProjects.has(c.project ?? ''))
    for (const a of withModel) {
      for (const c of findPortClashes(a.model, a.env.project, others)) {
        clashes.push(`host port ${c.port}/${c.protocol}: ${a.env.name} (${c.service}) publishes it, and so does ${c.holder}`)
      }
    }
  }
  const checked = `${withModel.length} recorded config${plural(withModel.length)}`
  if (clashes.length === 0) return { id: 'ports', status: 'ok', summary: `no host port published twice (${checked}${running ? ' and the running containers' : ''} compared)`, details: [] }
  return {
    id: 'ports',
    status: 'fail',
    summary: `${clashes.length} host port clash${clashes.length === 1 ? '' : 'es'}`,
    details: clashes,
    hint: "Give each environment its own host ports in its env file (e.g. WEB_PORT) and deploy it again, or stop what holds the port; a deploy is refused while another project publishes one of its ports.",
  }
}

/** SPEC §7: a service answering to the same name as another environment's on a shared network. */
export function sharedNetworkCheck(findings: readonly SharedNameFinding[]): Check {
  if (findings.length === 0) return { id: 'shared-networks', status: 'ok', summary: 'no service shares its name with another environment on a shared network', details: [] }
  const refused = findings.filter((f) => !f.accepted)
  return {
    id: 'shared-networks',
    status: 'warn',
    summary: `${findings.length} service name${plural(findings.length)} answered by more than one environment on a shared network`,
    details: findings.map((f) => `${f.environment}: ${describeSharedName(f)}`),
    hint:
      'A client on that network asking for the name reaches both environments. Give each environment its own network (name: platform-${APP_ENV} from the env file)' +
      (refused.length ? `; ${[...new Set(refused.map((f) => f.environment))].join(', ')} did not accept it under shared_networks, and its next deploy is refused` : ''),
  }
}

/** Below this many free subnets, a few more environments (each colour takes one network) fill the pools. */
const FEW_NETWORKS = 5

/** How many more compose networks the engine's default address pools can give (each environment and colour takes one). */
export function networkPoolCheck(usage: PoolUsage): Check {
  const summary = `${usage.free} more network${plural(usage.free)} fit in the engine's address pools (${usage.used} of ${usage.capacity} in use)`
  if (usage.free >= FEW_NETWORKS) return { id: 'network-pools', status: 'ok', summary, details: [] }
  return {
    id: 'network-pools',
    status: 'warn',
    summary,
    details: [],
    hint: `A deploy that needs a new network is refused once they are full. Widen them in /etc/docker/daemon.json: ${POOL_SNIPPET}, then restart dockerd.`,
  }
}

export interface EnvFileMode {
  env: string
  path: string
  /** Permission bits; undefined when the file could not be read. */
  mode?: number
  error?: string
}

async function envFileMode(env: EnvironmentConfig): Promise<EnvFileMode> {
  try {
    return { env: env.name, path: env.envFile, mode: (await stat(env.envFile)).mode & 0o777 }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { env: env.name, path: env.envFile, error: code === 'ENOENT' ? 'missing' : (error as Error).message }
  }
}

/** Env files hold the environment's secrets: readable by the owner only. */
export function envFileCheck(files: readonly EnvFileMode[]): Check {
  const open = files.flatMap((f) => (f.mode !== undefined && (f.mode & 0o077) !== 0 ? [{ ...f, mode: f.mode }] : []))
  const unreadable = files.filter((f) => f.mode === undefined)
  const details = [
    ...open.map((f) => `${f.path} (${f.env}) is mode ${f.mode.toString(8).padStart(3, '0')}: open to ${f.mode & 0o007 ? 'every user' : 'its group'}`),
    ...unreadable.map((f) => `${f.path} (${f.env}): ${f.error}`),
  ]
  if (open.length > 0) {
    return {
      id: 'env-files',
      status: 'fail',
      summary: `${open.length} env file${plural(open.length)} readable by other users`,
      details,
      hint: `chmod 600 ${open.map((f) => f.path).join(' ')}`,
    }
  }
  if (unreadable.length > 0) {
    return { id: 'env-files', status: 'warn', summary: `${unreadable.length} env file${plural(unreadable.length)} cannot be read`, details, hint: 'berth deploy refuses an environment whose env file is missing; create it from its .env.example.' }
  }
  return { id: 'env-files', status: 'ok', summary: `${files.length} env file${plural(files.length)}, readable by the owner only`, details: [] }
}

export interface LockFile {
  env: string
  path: string
  /** undefined: the file is empty (a run killed between creating and writing it). */
  info?: LockInfo
}

/** Every environment of deploy.yml, and every other one with state (their images and locks still count). */
async function environmentNames(deps: Deps, config: Config): Promise<string[]> {
  return [...new Set([...config.environments.keys(), ...(await environmentsWithState(deps.target.state))])].sort()
}

/** Locks that read, or are empty; a damaged one is the state check's finding. */
async function readLocks(deps: Deps, config: Config): Promise<LockFile[]> {
  const locks = await Promise.all(
    (await environmentNames(deps, config)).map(async (env): Promise<LockFile | undefined> => {
      const path = lockPath(deps.target.state.dir, env)
      const text = await deps.target.state.files.read(path).catch(() => undefined)
      if (text === undefined) return undefined
      const content = parseLock(text)
      if ('problem' in content) return undefined
      return { env, path, ...('holder' in content ? { info: content.holder } : {}) }
    }),
  )
  return locks.filter((l): l is LockFile => l !== undefined)
}

export interface StateFindings {
  env: string
  damaged: DamagedFile[]
  audit?: AuditDamage
}

async function stateFindings(deps: Deps, config: Config): Promise<StateFindings[]> {
  return Promise.all(
    (await environmentNames(deps, config)).map(async (env) => {
      const [damaged, audit] = await Promise.all([damagedState(deps.target.state, env), auditDamage(deps.target.state, env)])
      return { env, damaged, ...(audit ? { audit } : {}) }
    }),
  )
}

/**
 * Release records, colour state and locks that do not read stop every deploy, rollback and down of their
 * environment: fail, with the one command that fixes each. Damaged audit lines only warn: berth appends
 * after them and never relies on the log.
 */
export function stateCheck(findings: readonly StateFindings[]): Check {
  const damaged = findings.flatMap((f) => f.damaged.map((d) => ({ env: f.env, ...d })))
  const audits = findings.flatMap((f) => (f.audit ? [{ env: f.env, ...f.audit }] : []))
  const details = [
    ...damaged.map((d) => `${d.env}: ${d.file}: ${d.problem}`),
    ...audits.map((a) => `${a.env}: ${a.file}: ${a.lines.map((l) => `line ${l.line}: ${l.problem}`).join('; ')}`),
  ]
  if (details.length === 0) return { id: 'state', status: 'ok', summary: `the state files of ${findings.length} environment${plural(findings.length)} read as they should`, details: [] }
  const auditFix = audits.map((a) => `sed -i '${a.lines.map((l) => `${l.line}d`).join(';')}' ${shellWord(a.file)}`)
  if (damaged.length === 0) {
    return {
      id: 'state',
      status: 'warn',
      summary: `${audits.length} audit log${plural(audits.length)} with damaged lines`,
      details,
      hint: `berth appends after damaged lines and never reads the log to decide anything. To drop them: ${auditFix.join('; ')}`,
    }
  }
  const envs = [...new Set(damaged.map((d) => d.env))]
  return {
    id: 'state',
    status: 'fail',
    summary: `${damaged.length} damaged state file${plural(damaged.length)} (${envs.join(', ')}): deploy, rollback and down of ${envs.length === 1 ? 'that environment are' : 'those environments are'} refused`,
    details,
    hint: [...damaged.map((d) => `${d.env}: ${d.fix}`), ...(auditFix.length ? [`audit lines: ${auditFix.join('; ')}`] : [])].join('\n        '),
  }
}

/** SPEC §7: a lock whose process is gone on this host is stale; one taken on another host cannot be judged from here. */
export function lockCheck(locks: readonly LockFile[], host: string, isAlive: (pid: number) => boolean): Check {
  const stale: LockFile[] = []
  const details: string[] = []
  for (const l of locks) {
    if (!l.info) {
      stale.push(l)
      details.push(`${l.env}: ${l.path} is empty (left by a run killed while taking it)`)
    } else if (l.info.host !== host) {
      details.push(`${l.env}: locked on host ${l.info.host} by ${describeHolder(l.info)}; its process cannot be checked from here`)
    } else if (isAlive(l.info.pid)) {
      details.push(`${l.env}: locked by ${describeHolder(l.info)}, running now`)
    } else {
      stale.push(l)
      details.push(`${l.env}: stale lock left by ${describeHolder(l.info)}, whose process is gone`)
    }
  }
  const foreign = locks.filter((l) => l.info && l.info.host !== host)
  if (stale.length === 0 && foreign.length === 0) {
    return { id: 'locks', status: 'ok', summary: locks.length === 0 ? 'no environment is locked' : `${locks.length} lock${plural(locks.length)} held by running deploys`, details }
  }
  return {
    id: 'locks',
    status: 'warn',
    summary: stale.length > 0 ? `${stale.length} stale lock${plural(stale.length)}` : `${foreign.length} lock${plural(foreign.length)} taken on another host`,
    details,
    hint:
      stale.length > 0
        ? `The next deploy or rollback of ${stale.map((l) => l.env).join(', ')} takes ${stale.length === 1 ? 'it' : 'them'} over with a warning; to clear now: rm ${stale.map((l) => l.path).join(' ')}`
        : 'Remove such a lock only when that run is certainly over.',
  }
}

async function diskCheck(deps: Deps): Promise<Check> {
  const host = process.env.DOCKER_HOST
  if (host && !host.startsWith('unix://')) return { id: 'disk', status: 'warn', summary: `not checked: the engine is remote (DOCKER_HOST=${host})`, details: [] }
  const result = await deps.run(dockerRootDir(deps.target.engine), { allowFailure: true })
  const dir = result.stdout.trim()
  if (result.exitCode !== 0 || !dir) return { id: 'disk', status: 'warn', summary: 'not checked: docker info did not name the engine root directory', details: [] }
  try {
    const fs = await statfs(dir)
    return diskCheckOf(dir, fs.bavail * fs.bsize)
  } catch (error) {
    return { id: 'disk', status: 'warn', summary: `not checked: ${dir}: ${(error as Error).message}`, details: [] }
  }
}

export function diskCheckOf(dir: string, freeBytes: number): Check {
  const free = `${(freeBytes / 1024 ** 3).toFixed(1)} GiB free in ${dir}`
  if (freeBytes >= MIN_FREE_BYTES) return { id: 'disk', status: 'ok', summary: free, details: [] }
  return {
    id: 'disk',
    status: 'warn',
    summary: `${free}: a build or pull may fill it`,
    details: [],
    hint: 'Free space: docker image prune (unused images), docker builder prune (build cache); lower releases.keep to keep fewer releases.',
  }
}
