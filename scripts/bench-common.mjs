// What both benchmarks share: logging with elapsed time, a child environment without berth's own
// switches, a synchronous runner that fails loudly, and the set-up (build, engine) they start with.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

export function benchShell(name) {
  const t0 = performance.now()
  const elapsedS = () => (performance.now() - t0) / 1000

  function log(message) {
    process.stderr.write(`[${name} ${elapsedS().toFixed(1).padStart(6)}s] ${message}\n`)
  }

  /** berth and the baselines run with the caller's environment minus berth's own switches, plain output. */
  function childEnv(extra = {}) {
    const env = { ...process.env, CI: 'true', NO_COLOR: '1', ...extra }
    for (const key of ['BERTH_TRACE', 'BERTH_DEBUG', 'BERTH_CONFIG']) if (!(key in extra)) delete env[key]
    return env
  }

  function sh(argv, { cwd = ROOT, allowFail = false, env = childEnv(), quiet = false } = {}) {
    const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
    if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`)
    const out = { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
    if (out.code !== 0 && !allowFail) {
      throw new Error(`\`${argv.join(' ')}\` exited ${out.code}\n${(out.stderr || out.stdout).trim().split('\n').slice(-25).join('\n')}`)
    }
    if (!quiet && out.code !== 0) log(`(ignored) \`${argv.join(' ')}\` exited ${out.code}: ${out.stderr.trim().split('\n').pop()}`)
    return out
  }

  /** Builds berth when dist/ is missing and makes sure the engine (and, when asked, the edge image) is there. */
  function prepare({ edge = false } = {}) {
    if (!existsSync(join(ROOT, 'dist', 'commands')) || !existsSync(join(ROOT, 'node_modules'))) {
      if (!existsSync(join(ROOT, 'node_modules'))) {
        log('npm ci')
        sh(['npm', 'ci', '--no-audit', '--no-fund'])
      }
      log('dist/ is missing: npm run build')
      sh(['npm', 'run', 'build'])
    }
    log(`engine: bash scripts/engine.sh${edge ? '; edge image: bash scripts/edge-image.sh (berth-edge:local)' : ''}`)
    sh(['bash', join(ROOT, 'scripts', 'engine.sh')])
    if (edge) sh(['bash', join(ROOT, 'scripts', 'edge-image.sh')])
  }

  return { log, childEnv, sh, prepare, elapsedS }
}
