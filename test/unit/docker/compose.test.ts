import { describe, expect, it } from 'vitest'
import {
  type ComposeProject,
  composeBuild,
  composeConfig,
  composeDown,
  composeLogs,
  composePassthrough,
  composePs,
  composeUp,
  composeVersion,
} from '../../../src/docker/compose.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'

const target: ComposeProject = {
  engine: SHELL_ENGINE,
  project: 'shop-staging',
  projectDirectory: '/srv/shop',
  files: ['/srv/shop/compose.yaml', '/srv/shop/compose.staging.yaml', '/srv/shop/.berth/staging/releases/20261122-093000.yaml'],
  envFile: '/srv/shop/environments/staging.env',
}

/** The prefix every compose invocation for `target` must start with, files in merge order. */
const prefix = [
  'docker', 'compose',
  '--project-name', 'shop-staging',
  '--project-directory', '/srv/shop',
  '--file', '/srv/shop/compose.yaml',
  '--file', '/srv/shop/compose.staging.yaml',
  '--file', '/srv/shop/.berth/staging/releases/20261122-093000.yaml',
  '--env-file', '/srv/shop/environments/staging.env',
]

describe('compose argv builders', () => {
  it('config asks for the resolved model in the given format', () => {
    expect(composeConfig(target, 'json')).toEqual([...prefix, 'config', '--format', 'json'])
    expect(composeConfig(target, 'yaml')).toEqual([...prefix, 'config', '--format', 'yaml'])
  })

  it('build names the services to build, in order', () => {
    expect(composeBuild(target, ['web', 'worker'])).toEqual([...prefix, 'build', 'web', 'worker'])
  })

  it('up is detached, never builds and removes orphans', () => {
    expect(composeUp(target)).toEqual([...prefix, 'up', '--detach', '--no-build', '--remove-orphans'])
  })

  it('ps lists stopped containers too, as json', () => {
    expect(composePs(target)).toEqual([...prefix, 'ps', '--all', '--format', 'json'])
  })

  it('logs without options has no tail, no follow, no services', () => {
    expect(composeLogs(target, {})).toEqual([...prefix, 'logs', '--no-color'])
  })

  it('logs with tail, follow and services', () => {
    expect(composeLogs(target, { tail: 50, follow: true, services: ['web', 'db'] })).toEqual([
      ...prefix, 'logs', '--no-color', '--tail', '50', '--follow', 'web', 'db',
    ])
  })

  it('logs --tail 0 is kept (0 is a value, not "unset")', () => {
    expect(composeLogs(target, { tail: 0 })).toEqual([...prefix, 'logs', '--no-color', '--tail', '0'])
  })

  it('logs follow: false adds no --follow', () => {
    expect(composeLogs(target, { follow: false, services: ['web'] })).toEqual([...prefix, 'logs', '--no-color', 'web'])
  })

  it('down removes volumes only when asked', () => {
    expect(composeDown(target, { volumes: false })).toEqual([...prefix, 'down', '--remove-orphans'])
    expect(composeDown(target, { volumes: true })).toEqual([...prefix, 'down', '--remove-orphans', '--volumes'])
  })

  it('passthrough appends the operator arguments untouched', () => {
    expect(composePassthrough(target, ['exec', 'web', 'sh', '-c', 'echo $HOME'])).toEqual([...prefix, 'exec', 'web', 'sh', '-c', 'echo $HOME'])
  })

  it('always passes --env-file, even with no compose files', () => {
    const bare: ComposeProject = { ...target, files: [] }
    expect(composeUp(bare)).toEqual([
      'docker', 'compose', '--project-name', 'shop-staging', '--project-directory', '/srv/shop',
      '--env-file', '/srv/shop/environments/staging.env', 'up', '--detach', '--no-build', '--remove-orphans',
    ])
  })

  it('keeps the project of each environment apart', () => {
    const production: ComposeProject = { ...target, project: 'shop-production', envFile: '/srv/shop/environments/production.env' }
    const argv = composeDown(production, { volumes: false })
    expect(argv.slice(0, 4)).toEqual(['docker', 'compose', '--project-name', 'shop-production'])
    expect(argv).toContain('/srv/shop/environments/production.env')
    expect(argv).not.toContain('shop-staging')
    expect(argv).not.toContain('/srv/shop/environments/staging.env')
  })

  it('version asks compose for json', () => {
    expect(composeVersion(SHELL_ENGINE)).toEqual(['docker', 'compose', 'version', '--format', 'json'])
  })

  it('puts the engine of a host or a context before compose, and nothing for the shell\'s own', () => {
    expect(composeUp({ ...target, engine: { host: 'ssh://deploy@10.0.0.5' } }).slice(0, 4)).toEqual(['docker', '--host', 'ssh://deploy@10.0.0.5', 'compose'])
    expect(composeVersion({ context: 'prod-eu' })).toEqual(['docker', '--context', 'prod-eu', 'compose', 'version', '--format', 'json'])
    expect(composeUp(target).slice(0, 2)).toEqual(['docker', 'compose'])
  })
})
