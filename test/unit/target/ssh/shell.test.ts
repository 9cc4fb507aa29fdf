import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'

import { afterEach, describe, expect, it } from 'vitest'

import { RemoteShell, shq } from '../../../../src/target/ssh/shell.js'

/** The far side is a real sh of this machine, fed on its stdin as the host's is through SSH. */
let sh: ChildProcessWithoutNullStreams
function shell(): RemoteShell {
  sh = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] })
  const remote = new RemoteShell(sh.stdin, sh.stdout)
  sh.on('exit', () => remote.fail(new Error('the shell ended')))
  return remote
}

afterEach(() => {
  sh?.kill()
})

describe('RemoteShell', () => {
  it('runs scripts one after another, each with its own exit status and exact output', async () => {
    const remote = shell()
    const [a, b, c] = await Promise.all([remote.exec('printf "one\\ntwo"'), remote.exec('echo to stderr >&2; exit 3'), remote.exec("printf '%s\\n\\n' trailing")])
    expect(a).toEqual({ code: 0, output: 'one\ntwo' })
    expect(b).toEqual({ code: 3, output: 'to stderr\n' })
    expect(c).toEqual({ code: 0, output: 'trailing\n\n' })
  })

  it('keeps a script from reading the data of the scripts after it, and from ending the shell', async () => {
    const remote = shell()
    expect(await remote.exec('cat; echo read-nothing')).toEqual({ code: 0, output: 'read-nothing\n' })
    expect(await remote.exec('cd /; exit 0')).toEqual({ code: 0, output: '' })
    expect((await remote.exec('pwd')).output).not.toBe('/\n')
  })

  it('is not fooled by output that looks like a marker', async () => {
    const remote = shell()
    expect(await remote.exec("printf '\\nBERTH-0000-1 0\\nstill mine'")).toEqual({ code: 0, output: '\nBERTH-0000-1 0\nstill mine' })
  })

  it('fails what waits, and what comes after, once the shell is gone', async () => {
    const remote = shell()
    const waiting = remote.exec('sleep 5')
    sh.kill('SIGKILL')
    await expect(waiting).rejects.toThrow('the shell ended')
    await expect(remote.exec('true')).rejects.toThrow('the shell ended')
  })
})

describe('shq', () => {
  it('quotes a word so that sh takes it literally', async () => {
    const remote = shell()
    const word = `it's $HOME \`id\` "x" \\ ;|&`
    expect((await remote.exec(`printf '%s' ${shq(word)}`)).output).toBe(word)
  })
})
