import { describe, expect, it } from 'vitest'

import { SHELL_ENGINE } from '../../../src/docker/engine.js'
import { imagePush, registryLogin, serviceLogs, stackDeploy, stackServices } from '../../../src/docker/swarm.js'

const remote = { host: 'unix:///tmp/berth-ssh-x/docker.sock' }

describe('swarm argv builders', () => {
  it('deploys a stack without asking the registry again, with the client credentials, returning at once', () => {
    expect(stackDeploy(SHELL_ENGINE, 'shop-staging', '/w/stack.0.yaml')).toEqual([
      'docker', 'stack', 'deploy', '--compose-file', '/w/stack.0.yaml', '--resolve-image', 'never', '--with-registry-auth', '--detach=true', 'shop-staging',
    ])
  })

  it('reads the stack by its namespace label and addresses a remote engine by --host', () => {
    expect(stackServices(remote, 'shop-staging')).toEqual([
      'docker', '--host', remote.host, 'service', 'ls', '--filter', 'label=com.docker.stack.namespace=shop-staging', '--format', '{{json .}}',
    ])
    expect(imagePush(remote, 'r:5000/shop-web:1')).toEqual(['docker', '--host', remote.host, 'image', 'push', '--quiet', 'r:5000/shop-web:1'])
    expect(serviceLogs(SHELL_ENGINE, 'shop-staging_web', { tail: 5 })).toContain('--tail')
  })

  it('logs in with the password on stdin: argv holds the user name and the registry only', () => {
    const argv = registryLogin(remote, '127.0.0.1:5000', 'deployer')
    expect(argv).toEqual(['docker', '--host', remote.host, 'login', '--username', 'deployer', '--password-stdin', '127.0.0.1:5000'])
    expect(argv.join(' ')).not.toMatch(/--password(?!-stdin)/)
  })
})
