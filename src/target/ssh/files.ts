import { BerthError } from '../../errors.js'
import type { FileStat, Files } from '../files.js'
import type { RemoteShell } from './shell.js'
import { shq } from './shell.js'

/** A file operation the host refused (permissions, a full disk): names the host and what sh said. */
export class HostFileError extends BerthError {
  constructor(
    readonly host: string,
    readonly output: string,
  ) {
    const said = output.trim().split('\n').pop() || 'a file operation failed'
    const denied = /Permission denied|Read-only file system|Operation not permitted/i.test(said)
    super(
      `on ${host}: ${said}`,
      denied ? 'HOST_STATE_UNWRITABLE' : 'UNEXPECTED',
      denied ? `berth keeps an environment's state on its host, under /var/lib/berth/<app>/ (SPEC §10); make that directory the SSH user's there: sudo install -d -m 700 -o USER /var/lib/berth/<app>` : undefined,
    )
  }
}

/** Data as a literal of the script: base64 has no quote, and the script travels on stdin, not in any argv. */
function literal(data: string): string {
  return shq(Buffer.from(data, 'utf8').toString('base64'))
}

function decode(text: string): string {
  return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8')
}

/** Makes `dir` (and parents) 0700 whatever it was: SPEC §7. */
function privateDir(dir: string): string {
  return `{ mkdir -p ${shq(dir)} && chmod 700 ${shq(dir)}; } || exit 1`
}

function parentOf(path: string): string {
  const at = path.lastIndexOf('/')
  return at <= 0 ? '/' : path.slice(0, at)
}

/**
 * The host's files, through the connection's remote sh (POSIX sh and coreutils' base64, stat, mktemp,
 * tail, od, df there). Same contract as this machine's files (target/files.ts): atomic writes by temp file
 * and rename, 0600 files in 0700 directories (umask 077), exclusive creation by link(2), which either makes
 * the whole file appear or fails because one exists.
 */
export function sshFiles(shell: () => Promise<RemoteShell>, host: string): Files {
  async function sh(script: string): Promise<string> {
    const result = await (await shell()).exec(`umask 077\n${script}`)
    if (result.code !== 0) throw new HostFileError(host, result.output)
    return result.output
  }

  const files: Files = {
    async read(path) {
      const out = await sh(`if [ -f ${shq(path)} ]; then printf 'F\\n'; base64 < ${shq(path)}; else printf 'M\\n'; fi`)
      return out.startsWith('F\n') ? decode(out.slice(2)) : undefined
    },

    async lastByte(path) {
      const out = (await sh(`[ -s ${shq(path)} ] && tail -c 1 ${shq(path)} | od -An -tu1 || :`)).trim()
      return out === '' ? undefined : Number(out)
    },

    async writeAtomic(path, data) {
      const dir = parentOf(path)
      await sh(
        `${privateDir(dir)}\nt=$(mktemp ${shq(`${dir}/.XXXXXXXX.tmp`)}) || exit 1\n` +
          `if printf '%s' ${literal(data)} | base64 -d > "$t" && sync "$t" 2>/dev/null; then mv -f "$t" ${shq(path)}; else rm -f "$t"; exit 1; fi`,
      )
    },

    async append(path, data) {
      await sh(`${privateDir(parentOf(path))}\nprintf '%s' ${literal(data)} | base64 -d >> ${shq(path)}`)
    },

    async createExclusive(path, data, mode = 0o600) {
      const out = await sh(
        `t=$(mktemp ${shq(`${path}.XXXXXXXX`)}) || exit 1\n` +
          `printf '%s' ${literal(data)} | base64 -d > "$t" && chmod ${mode.toString(8)} "$t" || { rm -f "$t"; exit 1; }\n` +
          `if ln "$t" ${shq(path)} 2>/dev/null; then r=T; else r=F; fi; rm -f "$t"; printf '%s' "$r"`,
      )
      return out.trim() === 'T'
    },

    async rename(from, to) {
      await sh(`mv -f ${shq(from)} ${shq(to)}`)
    },

    async remove(path) {
      await sh(`rm -rf ${shq(path)}`)
    },

    async removeEmptyDir(path) {
      return (await sh(`rmdir ${shq(path)} 2>/dev/null && printf T || :`)).trim() === 'T'
    },

    async list(dir) {
      const out = await sh(
        `cd ${shq(dir)} 2>/dev/null || exit 0\nfor f in * .[!.]* ..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; if [ -d "$f" ]; then printf 'd %s\\n' "$f"; else printf 'f %s\\n' "$f"; fi; done`,
      )
      return out
        .split('\n')
        .filter((line) => line.length > 2)
        .map((line) => ({ name: line.slice(2), isDirectory: line[0] === 'd' }))
    },

    async stat(path) {
      const out = (await sh(`[ -e ${shq(path)} ] || exit 0\nstat -c '%s %Y %f %u' ${shq(path)}`)).trim()
      return out === '' ? undefined : parseStat(out)
    },

    async ageMs(path) {
      // The host's own clock against the host's own mtime: no skew between this machine and that one.
      const out = (await sh(`[ -e ${shq(path)} ] || exit 0\nprintf '%s %s' "$(date +%s)" "$(stat -c %Y ${shq(path)})"`)).trim()
      if (out === '') return undefined
      const [now, mtime] = out.split(' ').map(Number)
      return ((now ?? 0) - (mtime ?? 0)) * 1000
    },

    async touch(path) {
      await sh(`touch -c ${shq(path)}`)
    },

    async mkdir(dir, mode) {
      // As this machine's mkdir -p with a mode: the parents it makes get that mode too, not the 077 umask's.
      await sh(`umask ${(~mode & 0o777).toString(8)}\nmkdir -p ${shq(dir)} && chmod ${mode.toString(8)} ${shq(dir)}`)
    },

    async privateDir(dir) {
      await sh(privateDir(dir))
    },

    async syncDir(dir) {
      // sync(1) of one directory needs coreutils ≥ 8.24; else the whole file system is synced.
      await sh(`sync ${shq(dir)} 2>/dev/null || sync`)
    },
  }
  return files
}

/** `stat -c '%s %Y %f %u'`: size, mtime in seconds, raw mode in hex, owner. */
export function parseStat(line: string): FileStat {
  const [size, mtime, rawMode, uid] = line.split(' ')
  const mode = parseInt(rawMode ?? '0', 16)
  const type = mode & 0o170000
  return { size: Number(size), mtimeMs: Number(mtime) * 1000, mode, uid: Number(uid), isDirectory: type === 0o040000, isFile: type === 0o100000 }
}
