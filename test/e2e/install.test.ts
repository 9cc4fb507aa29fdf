import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { repoRoot, requireEngine } from './engine.js'

/**
 * SPEC §11's "install it anywhere", first part: `npm pack` gives a package that `npm install -g` installs in
 * a prefix that never saw the repository, and the berth it installs runs there. The pack skips its prepack
 * (`npm run build`) here: the suite has built dist/ already, and a build now would rewrite it under the files
 * that run beside this one. That prepack is the build is checked on its own.
 */
const work = mkdtempSync(join(tmpdir(), 'berth-install-'))
let installed: { bin: string; app: string; env: NodeJS.ProcessEnv } | undefined
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } })

describe('the npm package', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('builds itself when packed (prepack is the build)', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] }
    expect(pkg.scripts.prepack).toBe('npm run build')
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'dist', 'oclif.manifest.json']))
  })

  it('installs with npm install -g into an empty prefix and runs berth --version (with the commit), --help and status there', () => {
    requireEngine()
    const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], repoRoot)
    expect(pack.status, pack.stderr).toBe(0)
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    const prefix = join(work, 'prefix')
    const install = run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball as string)], work)
    expect(install.status, install.stderr).toBe(0)
    const bin = join(prefix, 'bin', 'berth')
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }

    // From a directory that is not the repository, with only the installed berth on PATH.
    const app = join(work, 'app')
    mkdirSync(join(app, 'environments'), { recursive: true })
    writeFileSync(join(app, 'compose.yaml'), 'services:\n  web:\n    image: busybox:missing\n')
    writeFileSync(join(app, 'deploy.yml'), 'app: berthpack\nenvironments:\n  staging: {}\n')
    writeFileSync(join(app, 'environments', 'staging.env'), 'GREETING=hello\n')
    const env = { PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin` }
    // The version and the commit the package was built from (its build ran in this checkout).
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    expect(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8', env: { ...process.env, ...env } })).toMatch(new RegExp(`^berth/${version} \\S+ node-v\\S+ \\(commit ${head}(-dirty)?\\)\\n$`))
    expect(run(bin, ['--help'], app, env).stdout).toMatch(/deploy\s+/)
    const status = run(bin, ['status'], app, env)
    expect(status.status, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^staging \(berthpack-staging\).*no release deployed/m)
    installed = { bin, app, env }
  }, 180_000)

  it("completes berth's commands and flags in bash, and writes zsh's completion function (@oclif/plugin-autocomplete)", () => {
    expect(installed, 'the install above failed').toBeDefined()
    const { bin, app } = installed as NonNullable<typeof installed>
    // The cache the plugin writes (completion functions) goes to a directory of this test, not the user's.
    const env = { ...installed?.env, BERTH_CACHE_DIR: join(work, 'cache') }
    const setup = run(bin, ['autocomplete', 'bash'], app, env)
    expect(setup.status, setup.stderr).toBe(0)
    expect(setup.stdout).toContain('berth autocomplete script bash')
    // What the README says to put in ~/.bashrc, then what bash asks the completion function at a <TAB>.
    const complete = (...words: string[]) => {
      const script = `eval "$(berth autocomplete script bash)"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth_autocomplete; printf '%s\n' "\${COMPREPLY[@]}"`
      const r = run('bash', ['-c', script], app, env)
      expect(r.status, r.stderr).toBe(0)
      return r.stdout.split('\n').filter(Boolean)
    }
    expect(run('bash', ['-c', 'eval "$(berth autocomplete script bash)"; complete -p berth'], app, env).stdout).toContain('-F _berth_autocomplete berth')
    expect(complete('berth', 'de')).toEqual(['deploy'])
    expect(complete('berth', 'ro')).toEqual(['rollback'])
    expect(complete('berth', 'rollback', '--t')).toEqual(['--to'])
    expect(complete('berth', 'deploy', '--')).toEqual(expect.arrayContaining(['--tag', '--watch', '--yes', '--config', '--json']))

    const zsh = run(bin, ['autocomplete', 'script', 'zsh'], app, env)
    expect(zsh.stdout).toContain(join(work, 'cache', 'autocomplete', 'zsh_setup'))
    const zshFunction = readFileSync(join(work, 'cache', 'autocomplete', 'functions', 'zsh', '_berth'), 'utf8')
    expect(zshFunction).toMatch(/^#compdef berth/m)
    for (const command of ['deploy', 'rollback', 'status', 'doctor']) expect(zshFunction).toContain(`"${command}[`)
  })
})
