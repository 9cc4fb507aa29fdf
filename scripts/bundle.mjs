// Bundles each compiled command (dist/commands/*.js) with the modules it imports into dist/bundle/commands,
// sharing common code in dist/bundle/chunks. Node then reads a handful of files at start instead of
// several hundred (oclif, execa, zod, yaml and berth's own modules), a good part of a command's start-up (see
// README, Benchmarks). @oclif/core is bundled too, into the chunk that main.js (what bin/run.js runs) and the
// commands share: the commands must extend the very copy that runs them. What oclif requires only for
// TypeScript sources in development (typescript, ts-node, tsx) stays out. listr2 stays a package import:
// berth imports it on first use only. undici is bundled into a chunk of its own, which berth also imports on
// first use only. execa is a chunk loaded on first use too (docker/runner.ts), so a command that starts no
// process does not load it. zod is imported as a namespace (`import * as z from 'zod'`) everywhere: esbuild then
// keeps what berth calls and drops the rest, half of which is its 40 locales (the shared chunk went from 1.35 MB
// to 0.79 MB).
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { build } from 'esbuild'

import { buildDefine } from './buildInfo.mjs'
import { explicitPjson, loadersSource } from './entries.mjs'
import { lazyRequires } from './lazyRequires.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = join(root, 'dist', 'commands')
const out = join(root, 'dist', 'bundle')
rmSync(out, { recursive: true, force: true })

await build({
  // Chunks go beside the commands directory, not in it: oclif would take a chunk exporting the base command for a command.
  // main: what bin/run.js runs (the --version line with the commit this build records).
  entryPoints: {
    main: join(root, 'dist', 'cli', 'main.js'),
    ...Object.fromEntries(
      readdirSync(commands)
        .filter((f) => f.endsWith('.js'))
        .map((f) => [`commands/${f.slice(0, -3)}`, join(commands, f)]),
    ),
  },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['listr2', 'typescript', 'ts-node', 'tsx'],
  define: buildDefine(root),
  // CommonJS packages inside (oclif, dotenv, yaml's node build) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  // What oclif requires at its top for help, plugin search, templates and debug logs is required on first use.
  plugins: [lazyRequires()],
  legalComments: 'none',
  logLevel: 'warning',
})

// The fast start (src/cli/fast.ts, src/cli/start.ts): every command in one CommonJS file, dist/bundle/berth.cjs,
// which bin/run.js compiles with V8's code cache (Node 20 has none for ES modules). Each command is imported
// on first use, so esbuild wraps its modules to run only when that command runs. The package.json oclif gets is
// the explicit one of the single executable (scripts/dist.mjs): the commands are in the file.
const pjson = explicitPjson(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')))
const ids = readdirSync(commands)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
const fastEntry = join(root, 'dist', 'fast-entry.mjs')
writeFileSync(
  fastEntry,
  [
    "import { runFast } from './cli/fast.js'",
    `const commands = ${loadersSource(
      ids.map((id) => [id, `./commands/${id}.js`]),
      (file) => JSON.stringify(file),
    )}`,
    `const pjson = ${JSON.stringify(pjson)}`,
    'export function run(root, argv, build) { return runFast(root, pjson, commands, argv, build) }',
    '',
  ].join('\n'),
)
await build({
  entryPoints: [fastEntry],
  outfile: join(out, 'berth.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // undici (1 MB, a third of the file) only sends webhooks, after a run's outcome: from node_modules when it does.
  external: ['listr2', 'undici', 'typescript', 'ts-node', 'tsx'],
  // Less to read at every start; names stay, for stack traces.
  minifyWhitespace: true,
  define: buildDefine(root),
  plugins: [lazyRequires()],
  legalComments: 'none',
  logLevel: 'warning',
})
rmSync(fastEntry)

// A guard on the size of what every command loads: `import { z } from 'zod'` anywhere (instead of the namespace
// import) brings zod's 40 locales back into the shared chunk (+0.56 MB to compile on every start). It did once.
for (const file of readdirSync(join(out, 'chunks'))) {
  if (readFileSync(join(out, 'chunks', file), 'utf8').includes('// node_modules/zod/v4/locales/de.js')) {
    throw new Error(`scripts/bundle.mjs: zod's locales are in dist/bundle/chunks/${file}: import zod as a namespace (import * as z from 'zod') in every module`)
  }
}

