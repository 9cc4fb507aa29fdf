/**
 * Which Docker engine a command goes to. Every docker and compose argv is built for one: the shell's default
 * (DOCKER_HOST / DOCKER_CONTEXT, or the local socket) when neither is set, else `docker --host …` or
 * `docker --context …`.
 */
export interface Engine {
  host?: string
  context?: string
}

/** The shell's engine: what a local target uses (SPEC §10, an environment without host: or context:). */
export const SHELL_ENGINE: Engine = Object.freeze({})

/** `docker` and the global options that pick the engine. */
export function dockerCli(engine: Engine): string[] {
  if (engine.host) return ['docker', '--host', engine.host]
  if (engine.context) return ['docker', '--context', engine.context]
  return ['docker']
}
