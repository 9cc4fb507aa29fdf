import { SWARM_LABEL } from '../names.js'
import { dockerCli, type Engine } from './engine.js'

/**
 * Pure builders of `docker stack`, `docker service` and image push argv for a Swarm environment (SPEC §10). The
 * stack's services and tasks are read by its name, which Swarm puts on them as com.docker.stack.namespace.
 */

/** The engine's swarm membership: LocalNodeState and ControlAvailable (a manager). */
export function swarmInfo(engine: Engine): string[] {
  return [...dockerCli(engine), 'info', '--format', '{{json .Swarm}}']
}

/**
 * Deploys (creates or updates) the stack from one stack file. berth pins images by digest itself, so Swarm
 * never asks a registry to resolve them again (`--resolve-image never`); berth waits on its own gate, so the
 * command returns once the specs are written. Services of the stack the file does not name are left as they are.
 */
export function stackDeploy(engine: Engine, stack: string, file: string): string[] {
  return [
    ...dockerCli(engine), 'stack', 'deploy',
    '--compose-file', file,
    '--resolve-image', 'never',
    '--with-registry-auth',
    '--detach=true',
    stack,
  ]
}

export function stackRemove(engine: Engine, stack: string): string[] {
  return [...dockerCli(engine), 'stack', 'rm', stack]
}

/** Every service of the stack, one JSON object per line (ID, Name, Mode, Replicas, Image, Ports). */
export function stackServices(engine: Engine, stack: string): string[] {
  return [...dockerCli(engine), 'service', 'ls', '--filter', `label=${SWARM_LABEL.stack}=${stack}`, '--format', '{{json .}}']
}

/** Every service on the swarm, one JSON object per line: what other stacks publish. */
export function allServices(engine: Engine): string[] {
  return [...dockerCli(engine), 'service', 'ls', '--format', '{{json .}}']
}

/** The full specs and update status of services, as a JSON array. */
export function serviceInspect(engine: Engine, services: readonly string[]): string[] {
  return [...dockerCli(engine), 'service', 'inspect', ...services]
}

/** The IDs of every task of the services, current and past. */
export function serviceTaskIds(engine: Engine, services: readonly string[]): string[] {
  return [...dockerCli(engine), 'service', 'ps', '--no-trunc', '--quiet', ...services]
}

/** Tasks in full (state, error, spec, job iteration), as a JSON array. */
export function taskInspect(engine: Engine, tasks: readonly string[]): string[] {
  return [...dockerCli(engine), 'inspect', '--type', 'task', ...tasks]
}

export function serviceLogs(engine: Engine, service: string, o: { tail?: number; follow?: boolean }): string[] {
  return [
    ...dockerCli(engine), 'service', 'logs', '--no-trunc', '--raw',
    ...(o.tail !== undefined ? ['--tail', String(o.tail)] : []),
    ...(o.follow ? ['--follow'] : []),
    service,
  ]
}

export function serviceRemove(engine: Engine, services: readonly string[]): string[] {
  return [...dockerCli(engine), 'service', 'rm', ...services]
}

export function imagePush(engine: Engine, ref: string): string[] {
  return [...dockerCli(engine), 'image', 'push', '--quiet', ref]
}

/**
 * `docker login` to a registry with the password on stdin (never in argv): the credentials go to the docker
 * client's own store, as the operator's `docker login` would put them, and reach the nodes with --with-registry-auth.
 */
export function registryLogin(engine: Engine, registryHost: string, username: string): string[] {
  return [...dockerCli(engine), 'login', '--username', username, '--password-stdin', registryHost]
}

/** The repository digests an image is known by (`registry/repo@sha256:…`), as a JSON array. */
export function imageRepoDigests(engine: Engine, ref: string): string[] {
  return [...dockerCli(engine), 'image', 'inspect', '--format', '{{json .RepoDigests}}', ref]
}

/** Volumes Swarm created for the stack on this engine (node-local). */
export function stackVolumes(engine: Engine, stack: string): string[] {
  return [...dockerCli(engine), 'volume', 'ls', '--quiet', '--filter', `label=${SWARM_LABEL.stack}=${stack}`]
}

export function volumeRemove(engine: Engine, names: readonly string[]): string[] {
  return [...dockerCli(engine), 'volume', 'rm', ...names]
}

/** The stack's networks, to wait for `stack rm` to finish removing them. */
export function stackNetworks(engine: Engine, stack: string): string[] {
  return [...dockerCli(engine), 'network', 'ls', '--quiet', '--filter', `label=${SWARM_LABEL.stack}=${stack}`]
}
