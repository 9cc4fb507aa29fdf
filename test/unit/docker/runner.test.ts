import { describe, expect, it } from 'vitest'
import { cleanEnv, commandsRun, run } from '../../../src/docker/runner.js'
import { DockerCommandError, EngineUnavailableError, ExitCode } from '../../../src/errors.js'
import { registerSecrets } from '../../../src/secrets.js'
import { cleanSecretsAndEnv } from '../support/processEnv.js'

describe('cleanEnv', () => {
  const operatorShell: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/home/deploy',
    DOCKER_HOST: 'unix:///run/user/1000/docker.sock',
    DOCKER_CONTEXT: 'rootless',
    DOCKER_CONFIG: '/home/deploy/.docker',
    DOCKER_CERT_PATH: '/home/deploy/.docker/certs',
    DOCKER_TLS_VERIFY: '1',
    LANG: 'C.UTF-8',
    LANGUAGE: 'en',
    LC_ALL: 'C.UTF-8',
    LC_CTYPE: 'C.UTF-8',
    TZ: 'UTC',
    // Seed 004: exported in the shell for another environment, must never reach compose interpolation.
    JWT_SECRET_KEY: 'prod-jwt-secret',
    DATABASE_URL: 'postgres://prod',
    WEB_PORT: '80',
    COMPOSE_PROJECT_NAME: 'shop-production',
    COMPOSE_FILE: 'compose.prod.yaml',
    COMPOSE_PROFILES: 'debug',
    NODE_OPTIONS: '--inspect',
    SSH_AUTH_SOCK: '/tmp/ssh-agent',
    USER: 'deploy',
    UNSET: undefined,
  }

  it('keeps PATH, HOME, the docker client variables, the ssh agent (ssh:// hosts) and the locale', () => {
    expect(cleanEnv(operatorShell)).toEqual({
      SSH_AUTH_SOCK: '/tmp/ssh-agent',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/deploy',
      DOCKER_HOST: 'unix:///run/user/1000/docker.sock',
      DOCKER_CONTEXT: 'rootless',
      DOCKER_CONFIG: '/home/deploy/.docker',
      DOCKER_CERT_PATH: '/home/deploy/.docker/certs',
      DOCKER_TLS_VERIFY: '1',
      LANG: 'C.UTF-8',
      LANGUAGE: 'en',
      LC_ALL: 'C.UTF-8',
      LC_CTYPE: 'C.UTF-8',
      TZ: 'UTC',
    })
  })

  it('drops app variables and compose overrides from the shell (seed 004)', () => {
    const env = cleanEnv(operatorShell)
    for (const key of ['JWT_SECRET_KEY', 'DATABASE_URL', 'WEB_PORT', 'COMPOSE_PROJECT_NAME', 'COMPOSE_FILE', 'COMPOSE_PROFILES', 'NODE_OPTIONS', 'UNSET']) {
      expect(env).not.toHaveProperty(key)
    }
  })

  it('does not invent variables that are not set', () => {
    expect(cleanEnv({ JWT_SECRET_KEY: 'x' })).toEqual({})
  })
})

describe('run', () => {
  cleanSecretsAndEnv()

  const node = process.execPath

  it('gives the child a clean environment, whatever the parent has exported', async () => {
    process.env.SECRET = 'leaked-from-shell'
    process.env.JWT_SECRET_KEY = 'prod-jwt-secret'
    process.env.COMPOSE_PROJECT_NAME = 'shop-production'
    process.env.LC_ALL = 'C.UTF-8'
    const result = await run([node, '-e', 'process.stdout.write(JSON.stringify(process.env))'])
    expect(result.exitCode).toBe(0)
    const childEnv = JSON.parse(result.stdout) as Record<string, string>
    expect(childEnv).not.toHaveProperty('SECRET')
    expect(childEnv).not.toHaveProperty('JWT_SECRET_KEY')
    expect(childEnv).not.toHaveProperty('COMPOSE_PROJECT_NAME')
    expect(childEnv.LC_ALL).toBe('C.UTF-8')
    expect(childEnv.PATH).toBe(process.env.PATH)
    expect(JSON.stringify(childEnv)).not.toContain('leaked-from-shell')
    const allowed = /^(PATH|HOME|DOCKER_(HOST|CONTEXT|CONFIG|CERT_PATH|TLS_VERIFY)|LANG|LANGUAGE|TZ|LC_.*)$/
    for (const key of Object.keys(childEnv)) expect(key).toMatch(allowed)
  })

  it('sends input on stdin and returns stdout, stderr and exit code', async () => {
    const result = await run([node, '-e', 'process.stdin.pipe(process.stdout); process.stderr.write("note")'], { input: 'hello' })
    expect(result).toEqual({ stdout: 'hello', stderr: 'note', exitCode: 0 })
  })

  it('hands lines over as they arrive with onLine, buffering nothing', async () => {
    const lines: [string, string][] = []
    const result = await run([node, '-e', 'console.log("one\\ntwo"); console.error("warn")'], { onLine: (line, stream) => lines.push([line, stream]) })
    expect(lines).toEqual(expect.arrayContaining([['one', 'stdout'], ['two', 'stdout'], ['warn', 'stderr']]))
    expect(lines).toHaveLength(3)
    expect(result).toEqual({ stdout: '', stderr: '', exitCode: 0 })
  })

  it('counts the commands it runs', async () => {
    const before = commandsRun()
    await run([node, '-e', ''])
    expect(commandsRun()).toBe(before + 1)
  })

  it('throws DockerCommandError with argv, exit code and masked stderr', async () => {
    const secret = 's3cr3t-Value-42'
    registerSecrets([secret])
    // The secret reaches the child on stdin, so it is in stderr but not in argv.
    const argv = [node, '-e', 'let d="";process.stdin.on("data",(c)=>{d+=c}).on("end",()=>{process.stderr.write("error: token "+d+" rejected\\n");process.exit(3)})']
    const error = await run(argv, { input: secret }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DockerCommandError)
    const e = error as DockerCommandError
    expect(e.argv).toEqual(argv)
    expect(e.commandExitCode).toBe(3)
    expect(e.exitCode).toBe(ExitCode.unexpected)
    expect(e.code).toBe('DOCKER_FAILED')
    expect(e.stderr).toBe('error: token **** rejected')
    expect(e.message).toContain('(exit 3)')
    expect(e.message).toContain('error: token **** rejected')
    expect(e.message).not.toContain(secret)
    expect(JSON.stringify(e.toJSON())).not.toContain(secret)
  })

  it('returns a failed result instead of throwing with allowFailure', async () => {
    const result = await run([node, '-e', 'process.stderr.write("nope"); process.exit(7)'], { allowFailure: true })
    expect(result).toEqual({ stdout: '', stderr: 'nope', exitCode: 7 })
  })

  it('reports a missing program as the engine being unavailable', async () => {
    const error = await run(['berth-test-no-such-program-3c9f']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EngineUnavailableError)
    expect((error as EngineUnavailableError).exitCode).toBe(ExitCode.engineUnavailable)
  })

  it('refuses an empty argv', async () => {
    await expect(run([])).rejects.toThrow('empty argv')
  })
})
