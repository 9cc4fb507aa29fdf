import { dockerCli, type Engine } from './engine.js'
import { containerInspectGets, containerListPath, ENGINE_ID_GET, eventsPath, inspectFields, renderEngineId, renderInspect, renderPs, renderVersion, VERSION_GETS, withApiRead, withApiStream } from './engineApi.js'

/** Pure builders of plain `docker` argv. Every query filters on labels (SPEC §7), except the read-only `psAll` that finds hand-started containers. */

export function dockerVersion(engine: Engine): string[] {
  return withApiRead([...dockerCli(engine), 'version', '--format', '{{json .}}'], { engine, gets: [...VERSION_GETS], render: renderVersion })
}

/** The engine's ID, a JSON string; over the socket it is kept per socket (docker/identity.ts), so usually nothing is sent. */
export function dockerEngineId(engine: Engine): string[] {
  return withApiRead([...dockerCli(engine), 'info', '--format', '{{json .ID}}'], { engine, gets: [ENGINE_ID_GET], render: renderEngineId })
}

/** All containers carrying every given label (`key` or `key=value`), one JSON object per line. */
export function psByLabels(engine: Engine, labels: readonly string[]): string[] {
  const argv = [...dockerCli(engine), 'ps', '--all', '--no-trunc', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{json .}}']
  return withApiRead(argv, { engine, gets: [{ path: containerListPath(labels.map((l) => ['label', l])) }], render: renderPs })
}

/** All images carrying every given label, one JSON object per line. */
export function imagesByLabels(engine: Engine, labels: readonly string[]): string[] {
  return [...dockerCli(engine), 'image', 'ls', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{json .}}']
}

/** Every local image as repository:tag, one per line. */
export function imageRefs(engine: Engine): string[] {
  return [...dockerCli(engine), 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']
}

export function imageRemove(engine: Engine, refs: readonly string[]): string[] {
  return [...dockerCli(engine), 'image', 'rm', ...refs]
}

export function gitDescribe(): string[] {
  return ['git', 'describe', '--always', '--dirty']
}

/**
 * Every container on the host, whatever its labels: read-only, and the only way to see containers started
 * by hand (seed 000), which carry no compose labels. Named fields rather than `{{json .}}`, which makes
 * the engine compute each container's disk size.
 */
export function psAll(engine: Engine): string[] {
  return withApiRead([...dockerCli(engine), 'ps', '--all', '--no-trunc', '--format', PS_FIELDS], { engine, gets: [{ path: containerListPath([]) }], render: renderPs })
}

const PS_FIELDS = `{${['ID', 'Names', 'Image', 'State', 'Status', 'Ports', 'Labels', 'CreatedAt', 'Networks'].map((f) => `"${f}":{{json .${f}}}`).join(',')}}`

/** Every container attached to any of the given networks (filters of one key are or-ed), whatever its labels: read-only. */
export function psOnNetworks(engine: Engine, networks: readonly string[]): string[] {
  const argv = [...dockerCli(engine), 'ps', '--all', '--no-trunc', ...networks.flatMap((n) => ['--filter', `network=${n}`]), '--format', PS_FIELDS]
  return withApiRead(argv, { engine, gets: [{ path: containerListPath(networks.map((n) => ['network', n])) }], render: renderPs })
}

/** Each container's endpoints (network name → aliases, addresses), one JSON object per line; no env values are read. */
export function inspectNetworkEndpoints(engine: Engine, ids: readonly string[]): string[] {
  return withApiRead([...dockerCli(engine), 'inspect', '--type', 'container', '--format', '{"id":{{json .Id}},"name":{{json .Name}},"networks":{{json .NetworkSettings.Networks}}}', ...ids], { engine, gets: containerInspectGets(ids), render: renderInspect(inspectFields.networkEndpoints) })
}

/** The names of every network of the engine, one per line. */
export function networkNames(engine: Engine): string[] {
  return [...dockerCli(engine), 'network', 'ls', '--format', '{{.Name}}']
}

/** Each given network's name and IPAM subnets, one JSON object per line. */
export function networkSubnets(engine: Engine, networks: readonly string[]): string[] {
  return [...dockerCli(engine), 'network', 'inspect', '--format', '{"name":{{json .Name}},"ipam":{{json .IPAM.Config}}}', ...networks]
}

/** The engine's default-address-pools (null when the daemon uses Docker's built-in ones). */
export function defaultAddressPools(engine: Engine): string[] {
  return [...dockerCli(engine), 'info', '--format', '{{json .DefaultAddressPools}}']
}

/** Restart policy of each container, one JSON object per line; only these fields, so no env values (secrets) are read. */
export function inspectRestartPolicies(engine: Engine, ids: readonly string[]): string[] {
  return withApiRead([...dockerCli(engine), 'inspect', '--type', 'container', '--format', '{"id":{{json .Id}},"name":{{json .Name}},"restart":{{json .HostConfig.RestartPolicy.Name}}}', ...ids], { engine, gets: containerInspectGets(ids), render: renderInspect(inspectFields.restartPolicy) })
}

/** A container's mounts (type, source, destination, mode), as one JSON array. */
export function inspectMounts(engine: Engine, id: string): string[] {
  return withApiRead([...dockerCli(engine), 'inspect', '--type', 'container', '--format', '{{json .Mounts}}', id], { engine, gets: containerInspectGets([id]), render: renderInspect(inspectFields.mounts) })
}

/** A container's state, exit code and how often its restart policy restarted it, as one JSON object. */
export function inspectState(engine: Engine, id: string): string[] {
  return withApiRead([...dockerCli(engine), 'inspect', '--type', 'container', '--format', '{"status":{{json .State.Status}},"exitCode":{{json .State.ExitCode}},"restarts":{{json .RestartCount}}}', id], { engine, gets: containerInspectGets([id]), render: renderInspect(inspectFields.state) })
}

/** The last lines a container logged (stdout and stderr). */
export function containerLogs(engine: Engine, id: string, tail: number): string[] {
  return [...dockerCli(engine), 'logs', '--tail', String(tail), id]
}

/** Copies one file out of a container (running or not) to a host path. */
export function copyFromContainer(engine: Engine, id: string, path: string, dest: string): string[] {
  return [...dockerCli(engine), 'cp', `${id}:${path}`, dest]
}

/** Where the engine keeps images and containers: the disk doctor measures. */
export function dockerRootDir(engine: Engine): string[] {
  return [...dockerCli(engine), 'info', '--format', '{{.DockerRootDir}}']
}


/** What makes two images run the same: their layers and run configuration, labels aside. */
export function imageRunIdentity(engine: Engine, refs: readonly string[]): string[] {
  return [
    ...dockerCli(engine), 'image', 'inspect', '--format',
    '{{json .RootFS.Layers}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Env}} {{json .Config.WorkingDir}} {{json .Config.User}} {{json .Config.Healthcheck}} {{json .Config.ExposedPorts}}',
    ...refs,
  ]
}

/** The engine a Docker context points at (`"ssh://deploy@10.0.0.5"`, `"unix:///var/run/docker.sock"`), as JSON. */
export function contextEndpoint(name: string): string[] {
  return ['docker', 'context', 'inspect', name, '--format', '{{json .Endpoints.docker.Host}}']
}

/** Removes containers (stopping them first): what a removed Swarm stack left of its tasks. */
export function containerRemove(engine: Engine, ids: readonly string[]): string[] {
  return [...dockerCli(engine), 'rm', '--force', ...ids]
}

/** The actions that change a container's state or health (not the exec_* of every healthcheck run). */
export const STATE_EVENTS = ['create', 'start', 'restart', 'die', 'stop', 'kill', 'oom', 'pause', 'unpause', 'destroy', 'health_status'] as const

/** The engine's events of the containers carrying every given label, one JSON object per line, until ended. */
export function containerEvents(engine: Engine, labels: readonly string[]): string[] {
  const argv = [
    ...dockerCli(engine), 'events', '--filter', 'type=container',
    ...labels.flatMap((l) => ['--filter', `label=${l}`]),
    ...STATE_EVENTS.flatMap((e) => ['--filter', `event=${e}`]),
    '--format', '{{json .}}',
  ]
  return withApiStream(argv, { engine, path: eventsPath(labels, STATE_EVENTS) })
}
