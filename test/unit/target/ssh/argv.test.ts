import { describe, expect, it } from 'vitest'

import { masterArgv, muxForwardArgv, sshDestination } from '../../../../src/target/ssh/argv.js'
import type { SshLocation } from '../../../../src/config/types.js'

const host: SshLocation = { kind: 'ssh', url: 'ssh://deploy@10.0.0.5:2222', user: 'deploy', host: '10.0.0.5', port: 2222, connectTimeoutMs: 7500 }

describe('ssh argv', () => {
  it('starts one ControlMaster whose session is a remote sh: no prompts, a bounded connect, a watched peer', () => {
    expect(masterArgv(host, '/tmp/berth-ssh-x/cm')).toEqual([
      'ssh', '-M', '-S', '/tmp/berth-ssh-x/cm',
      '-o', 'ControlPersist=no', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=8',
      '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3',
      '-o', 'StreamLocalBindUnlink=yes', '-o', 'ExitOnForwardFailure=yes',
      '-T', '-p', '2222', '--', 'deploy@10.0.0.5', 'exec sh',
    ])
  })

  it("leaves the user and port to ssh (and ~/.ssh/config) when the URL names none", () => {
    const bare: SshLocation = { kind: 'ssh', url: 'ssh://prod-eu', host: 'prod-eu', connectTimeoutMs: 10_000 }
    expect(sshDestination(bare)).toBe('prod-eu')
    expect(masterArgv(bare, '/c').slice(-3)).toEqual(['--', 'prod-eu', 'exec sh'])
  })

  it('adds a forward to the running master: a local socket to a socket or host:port of the host', () => {
    expect(muxForwardArgv(host, '/c', { local: '/tmp/d.sock', remote: '/run/docker.sock' })).toEqual([
      'ssh', '-S', '/c', '-o', 'StreamLocalBindUnlink=yes', '-O', 'forward', '-L', '/tmp/d.sock:/run/docker.sock', '-p', '2222', '--', 'deploy@10.0.0.5',
    ])
    expect(muxForwardArgv(host, '/c', { local: '/tmp/f0.sock', remote: '127.0.0.1:8080' })).toContain('/tmp/f0.sock:127.0.0.1:8080')
  })
})
