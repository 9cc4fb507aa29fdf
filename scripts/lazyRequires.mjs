// An esbuild plugin for berth's bundles (scripts/bundle.mjs, scripts/dist.mjs): some of oclif's modules require, at
// their top, modules that only help, an error's rendering, its spinner, a plugin search, a template, a debug log or
// its own timings use. Each of those requires becomes a getter that requires the module on first use, so a berth
// command that uses none of them does not run them at start: oclif's help and its formatter (which
// `@oclif/core/flags` requires for its `--help` flag, and the error handler for its own), wrap-ansi and
// the terminal's width (reading it makes process.stderr), colours (ansis, supports-color), cli-spinners, tinyglobby and fdir (for command files
// berth's bundles never look for), minimatch, lilconfig (package.json's oclif settings, which the bundles hand
// oclif), ejs, node:readline (for an argument read from stdin, which no berth
// argument is), node:perf_hooks (OCLIF_PERFORMANCE) and the debug package (DEBUG). About 6 ms of a command's start
// (README, Benchmarks).
//
// Each rule names the file, the exact statement it replaces and the members oclif uses of what it required; the
// build fails when a statement is not found or the file uses any other member, so a new oclif that uses these
// modules differently stops the build instead of failing at run time.
import { readFile } from 'node:fs/promises'

/** A getter object of `members`, each read from `load` when it is first used. */
function lazy(keyword, name, load, members) {
  return `${keyword} ${name} = { ${members.map((m) => `get ${m}() { return (${load}).${m} }`).join(', ')} };`
}

/**
 * The rule for `<keyword> <name> = require("<module>");` in `file` (`__importDefault(require(…))` with
 * `importDefault`), of which the file reads `members` only.
 */
function rule(file, name, module, members, { importDefault = false, keyword = 'const', quote = '"' } = {}) {
  const load = `require(${quote}${module}${quote})`
  const value = importDefault ? `__importDefault(${load})` : load
  return { file, name, statement: `${keyword} ${name} = ${value};`, members, replacement: lazy(keyword, name, value, members) }
}

/** debug's instances are all disabled unless DEBUG is set when the first one is made (oclif never enables one). */
const DISABLED_DEBUG = 'Object.assign(function () {}, { enabled: false, namespace, extend: () => (function () {}), log: function () {} })'

const OCLIF = '@oclif/core/lib'

export const LAZY_REQUIRES = [
  // help, which the --help flag's builder loads, and which the error handler loads (errors/index.js re-exports it)
  rule(`${OCLIF}/flags.js`, 'help_1', './help', ['loadHelpClass']),
  rule(`${OCLIF}/errors/index.js`, 'handle_1', './handle', ['handle'], { keyword: 'var' }),
  // what an error's rendering uses (the terminal's width: reading it makes process.stderr)
  rule(`${OCLIF}/errors/errors/cli.js`, 'clean_stack_1', 'clean-stack', ['default'], { importDefault: true }),
  rule(`${OCLIF}/errors/errors/cli.js`, 'indent_string_1', 'indent-string', ['default'], { importDefault: true }),
  rule(`${OCLIF}/errors/errors/cli.js`, 'wrap_ansi_1', 'wrap-ansi', ['default'], { importDefault: true }),
  rule(`${OCLIF}/errors/errors/cli.js`, 'screen_1', '../../screen', ['errtermwidth']),
  rule(`${OCLIF}/errors/errors/pretty-print.js`, 'indent_string_1', 'indent-string', ['default'], { importDefault: true }),
  rule(`${OCLIF}/errors/errors/pretty-print.js`, 'wrap_ansi_1', 'wrap-ansi', ['default'], { importDefault: true }),
  rule(`${OCLIF}/errors/errors/pretty-print.js`, 'screen_1', '../../screen', ['errtermwidth']),
  rule(`${OCLIF}/parser/errors.js`, 'list_1', '../ux/list', ['default'], { importDefault: true }),
  // oclif's spinner (berth's live view is listr2's)
  rule(`${OCLIF}/ux/action/spinner.js`, 'ansiEscapes', 'ansi-escapes', ['cursorLeft', 'cursorUp', 'eraseDown'], { quote: "'" }),
  rule(`${OCLIF}/ux/action/spinner.js`, 'ansis_1', 'ansis', ['default'], { importDefault: true }),
  rule(`${OCLIF}/ux/action/spinner.js`, 'cli_spinners_1', 'cli-spinners', ['default'], { importDefault: true }),
  rule(`${OCLIF}/ux/action/spinner.js`, 'screen_1', '../../screen', ['errtermwidth']),
  // colours, and whether the terminal takes them (supports-color reads both streams' terminals at its top)
  rule(`${OCLIF}/ux/theme.js`, 'ansis_1', 'ansis', ['default'], { importDefault: true }),
  rule(`${OCLIF}/ux/theme.js`, 'supports_color_1', './supports-color', ['supportsColor']),
  rule(`${OCLIF}/ux/supports-color.js`, 'supports_color_1', 'supports-color', ['stdout', 'stderr']),
  // finding command files and plugins, which berth's bundles never do; templates; reading stdin; oclif's timings
  rule(`${OCLIF}/config/plugin.js`, 'tinyglobby_1', 'tinyglobby', ['glob']),
  rule(`${OCLIF}/config/plugin-loader.js`, 'minimatch_1', 'minimatch', ['minimatch']),
  rule(`${OCLIF}/config/config.js`, 'ejs_1', 'ejs', ['default'], { importDefault: true }),
  rule(`${OCLIF}/help/util.js`, 'ejs_1', 'ejs', ['default'], { importDefault: true }),
  rule(`${OCLIF}/util/read-pjson.js`, 'lilconfig_1', 'lilconfig', ['lilconfig']),
  rule(`${OCLIF}/parser/parse.js`, 'node_readline_1', 'node:readline', ['createInterface']),
  rule(`${OCLIF}/performance.js`, 'node_perf_hooks_1', 'node:perf_hooks', ['performance', 'PerformanceObserver']),
  {
    file: `${OCLIF}/logger.js`,
    name: 'debug_1',
    statement: 'const debug_1 = __importDefault(require("debug"));',
    members: ['default'],
    replacement: `const debug_1 = { default: (namespace) => (process.env.DEBUG ? __importDefault(require("debug")).default(namespace) : ${DISABLED_DEBUG}) };`,
  },
]

/** The source with its rule applied; throws when the rule no longer fits the file. */
export function applyLazyRequire(source, rule) {
  const at = source.indexOf(rule.statement)
  if (at === -1 || source.indexOf(rule.statement, at + 1) !== -1) throw new Error(`scripts/lazyRequires.mjs: ${rule.file} no longer has ${rule.statement} once: update the rule`)
  const rest = source.slice(0, at) + source.slice(at + rule.statement.length)
  const uses = [...rest.matchAll(new RegExp(`\\b${rule.name}\\b(\\.\\w+)?`, 'g'))]
  const other = uses.filter((u) => u[1] === undefined || !rule.members.includes(u[1].slice(1)))
  if (uses.length === 0 || other.length > 0) {
    throw new Error(`scripts/lazyRequires.mjs: ${rule.file} uses ${rule.name} ${other.length ? `as ${other.map((u) => u[0]).join(', ')}` : 'nowhere'}, not only ${rule.members.join(', ')}: update the rule`)
  }
  return source.slice(0, at) + rule.replacement + source.slice(at + rule.statement.length)
}

export function lazyRequires() {
  return {
    name: 'berth-lazy-requires',
    setup(build) {
      const seen = new Set()
      build.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/ }, async (args) => {
        const rules = LAZY_REQUIRES.filter((r) => args.path.replaceAll('\\', '/').endsWith(`/node_modules/${r.file}`))
        if (rules.length === 0) return undefined
        let contents = await readFile(args.path, 'utf8')
        for (const r of rules) {
          contents = applyLazyRequire(contents, r)
          seen.add(r)
        }
        return { contents, loader: 'js' }
      })
      build.onEnd((result) => {
        if (result.errors.length > 0) return
        const missed = LAZY_REQUIRES.filter((r) => !seen.has(r)).map((r) => `${r.file} (${r.name})`)
        if (missed.length > 0) throw new Error(`scripts/lazyRequires.mjs: the bundle holds none of ${missed.join(', ')}: update the rules`)
      })
    },
  }
}
