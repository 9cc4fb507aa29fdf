import { describe, expect, it } from 'vitest'
import {
  dockerRootDir,
  dockerVersion,
  gitDescribe,
  imageRefs,
  imageRemove,
  imagesByLabels,
  inspectRestartPolicies,
  psAll,
  psByLabels,
} from '../../../src/docker/docker.js'
import { parsePs, parseRestartPolicies } from '../../../src/docker/parse.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'
import { COMPOSE_SCHEME } from '../../../src/names.js'

/** What docker does with a Go template of `{{json .Field}}` placeholders, for one container. */
function render(template: string, fields: Record<string, unknown>): string {
  return template.replace(/\{\{json \.([A-Za-z.]+)\}\}/g, (_, path: string) => {
    const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], fields)
    return JSON.stringify(value)
  })
}

describe('docker argv builders', () => {
  it('version prints json', () => {
    expect(dockerVersion(SHELL_ENGINE)).toEqual(['docker', 'version', '--format', '{{json .}}'])
  })

  it('ps filters on every label, includes stopped containers, does not truncate', () => {
    expect(psByLabels(SHELL_ENGINE, ['com.docker.compose.project=shop-staging', 'berth.app=shop', 'berth.env=staging'])).toEqual([
      'docker', 'ps', '--all', '--no-trunc',
      '--filter', 'label=com.docker.compose.project=shop-staging',
      '--filter', 'label=berth.app=shop',
      '--filter', 'label=berth.env=staging',
      '--format', '{{json .}}',
    ])
  })

  it('ps accepts a bare label key (presence filter)', () => {
    expect(psByLabels(SHELL_ENGINE, ['berth.app'])).toEqual(['docker', 'ps', '--all', '--no-trunc', '--filter', 'label=berth.app', '--format', '{{json .}}'])
  })

  it('image ls filters on labels', () => {
    expect(imagesByLabels(SHELL_ENGINE, ['berth.app=shop', 'berth.release=20261122-093000'])).toEqual([
      'docker', 'image', 'ls',
      '--filter', 'label=berth.app=shop',
      '--filter', 'label=berth.release=20261122-093000',
      '--format', '{{json .}}',
    ])
  })

  it('image refs are repository:tag lines', () => {
    expect(imageRefs(SHELL_ENGINE)).toEqual(['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
  })

  it('image rm names each image', () => {
    expect(imageRemove(SHELL_ENGINE, ['shop-web:20261121-170512', 'registry:5000/team/web:20261121-170512'])).toEqual([
      'docker', 'image', 'rm', 'shop-web:20261121-170512', 'registry:5000/team/web:20261121-170512',
    ])
  })

  it('git describe marks a dirty checkout', () => {
    expect(gitDescribe()).toEqual(['git', 'describe', '--always', '--dirty'])
  })

  it('ps of every container asks for named fields only, and parsePs reads what docker prints', () => {
    const argv = psAll(SHELL_ENGINE)
    expect(argv.slice(0, -1)).toEqual(['docker', 'ps', '--all', '--no-trunc', '--format'])
    expect(argv.some((a) => a.startsWith('label=') || a === '--filter')).toBe(false)
    const template = argv.at(-1) as string
    expect(template).not.toContain('{{json .}}') // would make the engine size every container
    const line = render(template, {
      ID: 'c0ffee',
      Names: 'web',
      Image: 'shop-web:latest',
      State: 'running',
      Status: 'Up 2 days (healthy)',
      Ports: '0.0.0.0:80->80/tcp',
      Labels: 'maintainer="a, b"',
      CreatedAt: '2026-11-20 08:00:00 +0000 UTC',
      Networks: 'shop-staging_default,platform',
    })
    expect(parsePs(`${line}\n${line}\n`, COMPOSE_SCHEME)[0]).toEqual({
      id: 'c0ffee',
      name: 'web',
      image: 'shop-web:latest',
      state: 'running',
      health: 'healthy',
      status: 'Up 2 days (healthy)',
      ports: '0.0.0.0:80->80/tcp',
      labels: { maintainer: '"a, b"' },
      networks: ['shop-staging_default', 'platform'],
      project: undefined,
      service: undefined,
      createdAt: '2026-11-20 08:00:00 +0000 UTC',
    })
  })

  it('inspects restart policies of the given containers, and nothing of their env', () => {
    const argv = inspectRestartPolicies(SHELL_ENGINE, ['c0ffee', 'beef'])
    expect(argv.slice(0, 5)).toEqual(['docker', 'inspect', '--type', 'container', '--format'])
    expect(argv.slice(6)).toEqual(['c0ffee', 'beef'])
    const template = argv[5] as string
    expect(template).not.toContain('Env')
    const line = render(template, { Id: 'c0ffee', Name: '/web', HostConfig: { RestartPolicy: { Name: 'no' } } })
    expect(parseRestartPolicies(`${line}\n`)).toEqual([{ id: 'c0ffee', name: 'web', restart: 'no' }])
  })

  it('asks the engine for its root directory', () => {
    expect(dockerRootDir(SHELL_ENGINE)).toEqual(['docker', 'info', '--format', '{{.DockerRootDir}}'])
  })

  it('builds every command for the engine it is given', () => {
    expect(psAll({ host: 'unix:///run/b.sock' }).slice(0, 4)).toEqual(['docker', '--host', 'unix:///run/b.sock', 'ps'])
    expect(imageRemove({ context: 'prod-eu' }, ['a:1'])).toEqual(['docker', '--context', 'prod-eu', 'image', 'rm', 'a:1'])
    expect(dockerRootDir({})).toEqual(['docker', 'info', '--format', '{{.DockerRootDir}}'])
  })
})
