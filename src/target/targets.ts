import type { Config, EnvironmentConfig, SshLocation } from '../config/types.js'
import { parseSshUrl } from '../config/load.js'
import { contextEndpoint } from '../docker/docker.js'
import { run as runCommand, runPinned, type Runner } from '../docker/runner.js'
import type { Reporter } from '../progress.js'
import { SWARM_SCHEME } from '../names.js'
import { localTarget } from './local.js'
import { sshTarget, type SshTarget } from './ssh/target.js'
import type { Target } from './target.js'

/** Every environment's target, made on first use and shared by environments on the same engine. */
export interface Targets {
  of(env: EnvironmentConfig): Target
  /** The shell's engine: for commands about no environment. */
  local(): Target
  /** Ends the run's SSH connections. */
  close(): Promise<void>
}

/**
 * SPEC §10: an environment runs where deploy.yml says — host: (over SSH), context: (a Docker context; an
 * ssh:// one is reached as host: is), else the shell's engine. One target per engine, so environments on
 * one host share its one connection. A shell DOCKER_HOST / DOCKER_CONTEXT that disagrees with an
 * environment's host: or context: is ignored, with a warning the first time that environment is used.
 */
export async function createTargets(config: Config, options: { reporter?: Reporter; run?: Runner } = {}): Promise<Targets> {
  const run = options.run ?? runCommand
  const contexts = await resolveContexts(config, run)
  const made = new Map<string, Target>()
  const warned = new Set<string>()
  const local = () => cached('local', () => localTarget({ stateDir: config.stateDir, ...(options.run ? { run: options.run } : {}) }))

  function cached(key: string, make: () => Target): Target {
    let target = made.get(key)
    if (!target) {
      target = make()
      made.set(key, target)
    }
    return target
  }

  function warnShell(env: EnvironmentConfig, where: string): void {
    const shell = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : process.env.DOCKER_CONTEXT ? `DOCKER_CONTEXT=${process.env.DOCKER_CONTEXT}` : undefined
    if (!shell || warned.has(env.name) || process.env.DOCKER_HOST === where || process.env.DOCKER_CONTEXT === where) return
    warned.add(env.name)
    options.reporter?.warn(`${shell} of this shell is ignored for ${env.name}: deploy.yml runs it on ${where}`)
  }

  return {
    of(env) {
      const engine = engineOf(env)
      return env.target === 'swarm' ? swarmView(engine) : engine
    },
    local,
    async close() {
      await Promise.all([...made.values()].map((t) => (t as Partial<SshTarget>).connection?.close()))
    },
  }

  function engineOf(env: EnvironmentConfig): Target {
    const { location } = env
    if (location.kind === 'shell') return local()
    if (location.kind === 'ssh') {
      warnShell(env, location.url)
      return ssh(location)
    }
    warnShell(env, location.name)
    const endpoint = contexts.get(location.name)
    if (endpoint) return ssh(endpoint)
    return cached(`context:${location.name}`, () => ({
      ...localTarget({ stateDir: config.stateDir, engine: { context: location.name }, run: options.run ?? runPinned }),
      description: `context ${location.name}`,
    }))
  }

  function ssh(location: SshLocation): Target {
    return cached(`ssh:${location.url}`, () => sshTarget(location, { app: config.app, localStateDir: config.stateDir, ...(options.run ? { run: options.run } : {}) }))
  }
}

const swarmViews = new WeakMap<Target, Target>()

/**
 * The same engine, connection and state, seen as a Swarm target (SPEC §10): its environments are stacks, their
 * task containers told apart by the stack's label. One per engine, so a run compares targets by identity.
 */
export function swarmView(target: Target): Target {
  let view = swarmViews.get(target)
  if (!view) {
    view = { ...target, kind: 'swarm', labels: SWARM_SCHEME }
    swarmViews.set(target, view)
  }
  return view
}

/** Contexts of deploy.yml whose engine is ssh://, as SSH locations: reached with one connection like host:. */
async function resolveContexts(config: Config, run: Runner): Promise<Map<string, SshLocation>> {
  const names = new Map<string, number>()
  for (const env of config.environments.values()) if (env.location.kind === 'context') names.set(env.location.name, env.location.connectTimeoutMs)
  const resolved = new Map<string, SshLocation>()
  await Promise.all(
    [...names].map(async ([name, connectTimeoutMs]) => {
      const result = await run(contextEndpoint(name), { allowFailure: true })
      const endpoint = result.exitCode === 0 ? result.stdout.trim().replace(/^"|"$/g, '') : ''
      if (/^ssh:\/\//.test(endpoint)) {
        try {
          resolved.set(name, { ...parseSshUrl(endpoint, connectTimeoutMs), context: name })
        } catch {
          // An endpoint berth cannot read as ssh://[user@]host[:port] is left to docker --context.
        }
      }
    }),
  )
  return resolved
}
