// What the build records of where it came from: the short commit of the checkout berth is built in, with
// "-dirty" when tracked files differ from it; '' when the package directory is not the top of a git checkout
// (an unpacked tarball, or a copy inside another project's repository, whose commit is not berth's).
import { execFileSync } from 'node:child_process'
import { realpathSync } from 'node:fs'

export function buildCommit(root) {
  const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) return ''
    const commit = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`
  } catch {
    return ''
  }
}

/** esbuild's define for src/cli/main.ts. */
export function buildDefine(root) {
  return { BERTH_BUILD_COMMIT: JSON.stringify(buildCommit(root)) }
}
