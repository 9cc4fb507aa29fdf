import type { EngineLocation, Hook, HookName } from '../config/types.js'

/** What a hook is told of its run (SPEC §11), as BERTH_* variables. */
export interface HookFacts {
  app: string
  env: string
  /** deploy or rollback: the run the hook belongs to. */
  action: 'deploy' | 'rollback'
  /** The release the run applies (a deploy's new tag, a rollback's target). */
  release: string
  /** The release active before the run; '' when there was none. */
  previous: string
  /** pending (pre_ hooks), ok (post_ hooks), or how the run failed (on_failure): failed, rolled-back, needs-person. */
  result: HookResult
  /** on_failure: why the run failed (masked). */
  reason?: string
  /** The host the environment's engine is on (BERTH_HOST). */
  host: string
}

export type HookResult = 'pending' | 'ok' | 'failed' | 'rolled-back' | 'needs-person'

/**
 * What of the operator's own environment a hook gets: enough to find programs, the operator's home and
 * configuration, the locale, and the SSH agent (a hook that pushes a git tag). Nothing else: a token exported
 * in the shell (AWS_*, GITHUB_TOKEN, …) must not reach a command that deploy.yml names, as it must not reach
 * docker (SPEC §2).
 */
const OPERATOR_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'LANG', 'LANGUAGE', 'TZ', 'SSH_AUTH_SOCK', 'NO_COLOR']

/**
 * A hook's whole environment: the operator's variables above, the env file's variables listed under `pass:`
 * (and no other), then the BERTH_* facts, which nothing overrides.
 */
export function hookEnvironment(hook: Hook, facts: HookFacts, operatorEnv: NodeJS.ProcessEnv, envFile: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(operatorEnv)) {
    if (value !== undefined && (OPERATOR_VARIABLES.includes(key) || key.startsWith('LC_'))) out[key] = value
  }
  for (const key of hook.pass) {
    const value = envFile[key]
    if (value !== undefined) out[key] = value
  }
  return { ...out, ...berthVariables(hook.name, facts) }
}

export function berthVariables(name: HookName, facts: HookFacts): Record<string, string> {
  return {
    BERTH_HOOK: name,
    BERTH_ACTION: facts.action,
    BERTH_APP: facts.app,
    BERTH_ENV: facts.env,
    BERTH_RELEASE: facts.release,
    BERTH_PREVIOUS: facts.previous,
    BERTH_RESULT: facts.result,
    BERTH_HOST: facts.host,
    ...(facts.reason !== undefined ? { BERTH_REASON: facts.reason } : {}),
  }
}

/** Names listed under `pass:` that the env file does not set: the hook runs without them, with a warning. */
export function unsetPassed(hook: Hook, envFile: Readonly<Record<string, string>>): string[] {
  return hook.pass.filter((key) => envFile[key] === undefined)
}

/** BERTH_HOST: the SSH host of a host: environment, the context of a context: one, else this machine. */
export function engineHost(location: EngineLocation, thisHost: string): string {
  if (location.kind === 'ssh') return location.host
  if (location.kind === 'context') return location.name
  return thisHost
}
