// npm run dist (after npm run build): berth as one executable file, dist-bin/berth (or the path given), for
// hosts without Node or npm, with Node's single-executable applications (SEA). A SEA runs one CommonJS
// script and can require only Node's built-in modules, and oclif finds package.json, its manifest and every
// command file on disk. So: every command (berth's and @oclif/plugin-autocomplete's, named by their
// manifests) and @oclif/core are bundled into one CommonJS file with the package.json oclif needs
// (src/cli/sea.ts hands oclif those command classes); `node --experimental-sea-config sea-config.json` makes
// the blob of it, and postject injects the blob into a copy of this Node binary.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { build } from 'esbuild'

import { buildDefine } from './buildInfo.mjs'
import { explicitPjson, loadersSource } from './entries.mjs'
import { lazyRequires } from './lazyRequires.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = resolve(process.argv[2] ?? join(root, 'dist-bin', 'berth'))
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'))
const seaConfig = readJson(join(root, 'sea-config.json'))
const work = dirname(join(root, seaConfig.main))
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })

const pkg = readJson(join(root, 'package.json'))
// Each command's module: berth's compiled one (dist/commands; the manifest names the bundled copy, ESM chunks
// that expect import.meta), and each plugin's as its manifest names it.
const commands = Object.keys(readJson(join(root, 'oclif.manifest.json')).commands).map((id) => [id, join(root, 'dist', 'commands', `${id.split(':').join('/')}.js`)])
for (const plugin of pkg.oclif.plugins ?? []) {
  const dir = join(root, 'node_modules', plugin)
  for (const [id, command] of Object.entries(readJson(join(dir, 'oclif.manifest.json')).commands)) commands.push([id, join(dir, ...command.relativePath)])
}
// What oclif reads of package.json. Its commands are the bundle's (explicit discovery, src/cli/sea.ts), its plugins are in them.
const pjson = explicitPjson(pkg)
const entry = join(work, 'entry.mjs')
const importPath = (file) => JSON.stringify(relative(work, file))
// Each command is imported on first use (esbuild then runs its modules only when it runs): berth's own
// commands and --version start as bin/run.js's fast start does (src/cli/fast.ts); the rest (help, the plugin's
// commands, which need every command, anything unknown) loads every command for oclif.
const ownCount = Object.keys(readJson(join(root, 'oclif.manifest.json')).commands).length
writeFileSync(
  entry,
  [
    `import { statSync } from 'node:fs'`,
    `import { dirname } from 'node:path'`,
    `import { runFast } from ${importPath(join(root, 'dist', 'cli', 'fast.js'))}`,
    `import { runExecutable } from ${importPath(join(root, 'dist', 'cli', 'sea.js'))}`,
    `const own = ${loadersSource(commands.slice(0, ownCount), importPath)}`,
    `const all = { ...own, ...${loadersSource(commands.slice(ownCount), importPath)} }`,
    `const pjson = ${JSON.stringify(pjson)}`,
    `void (async () => {`,
    // The executable's own stat identifies its build (src/config/cache.ts).
    `  const self = statSync(process.execPath)`,
    `  if (await runFast(dirname(process.execPath), pjson, own, process.argv.slice(2), \`\${process.execPath} \${self.size} \${self.mtimeMs}\`)) return`,
    `  const classes = await Promise.all(Object.entries(all).map(async ([id, load]) => [id, (await load()).default]))`,
    `  await runExecutable(pjson, Object.fromEntries(classes))`,
    `})()`,
    '',
  ].join('\n'),
)
await build({
  entryPoints: [entry],
  outfile: join(root, seaConfig.main),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: buildDefine(root),
  // @oclif/core reads a tsconfig with typescript only while a plugin is developed (NODE_ENV=development): 9 MB left out.
  external: ['typescript'],
  // @oclif/core checks Node against package.json's engines on import, reading package.json from disk: the Node is this one.
  banner: { js: "process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';" },
  plugins: [lazyRequires()],
  legalComments: 'none',
  logLevel: 'warning',
})

execFileSync(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
mkdirSync(dirname(out), { recursive: true })
rmSync(out, { force: true })
copyFileSync(process.execPath, out)
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js')
// postject warns about ELF note sections it does not know on Linux; what matters is its exit code.
execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', join(root, seaConfig.output), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: ['ignore', 'ignore', 'pipe'] })
console.log(`wrote ${relative(process.cwd(), out) || out}`)
