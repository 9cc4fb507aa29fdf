// What the two one-file builds share: dist/bundle/berth.cjs (scripts/bundle.mjs, the fast start of bin/run.js) and
// the single executable's bundle (scripts/dist.mjs). Both hand oclif the command classes they hold.

/**
 * What oclif reads of package.json when the commands are in the bundle: explicit discovery (src/cli/sea.ts gives
 * the classes), and no plugins to look for on disk (the bundle holds what it runs of them).
 */
export function explicitPjson(pkg) {
  return {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    oclif: { ...pkg.oclif, commands: { strategy: 'explicit', target: './berth', identifier: 'COMMANDS' }, plugins: [] },
  }
}

/**
 * Source text of an object of command loaders, `{ "deploy": () => import("…"), … }`, from [id, module path]
 * pairs; `importPath` writes a path as the entry imports it. esbuild bundles each import() so that a command's
 * modules run only when that command runs.
 */
export function loadersSource(commands, importPath) {
  return `{ ${commands.map(([id, file]) => `${JSON.stringify(id)}: () => import(${importPath(file)})`).join(', ')} }`
}
