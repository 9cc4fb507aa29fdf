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

/** The sh scripts of the host's file operations: pure builders (the data they carry is base64 literals). */
const script = {
  read: (path: string) => `if [ -f ${shq(path)} ]; then printf 'F\\n'; base64 < ${shq(path)}; else printf 'M\\n'; fi`,
  lastByte: (path: string) => `[ -s ${shq(path)} ] && tail -c 1 ${shq(path)} | od -An -tu1 || :`,
  writeAtomic: (path: string, data: string) => {
    const dir = parentOf(path)
    return (
      `${privateDir(dir)}\nt=$(mktemp ${shq(`${dir}/.XXXXXXXX.tmp`)}) || exit 1\n` +
      `if printf '%s' ${literal(data)} | base64 -d > "$t" && sync "$t" 2>/dev/null; then mv -f "$t" ${shq(path)}; else rm -f "$t"; exit 1; fi`
    )
  },
  append: (path: string, data: string) => `${privateDir(parentOf(path))}\nprintf '%s' ${literal(data)} | base64 -d >> ${shq(path)}`,
  createExclusive: (path: string, data: string, mode: number) =>
    `t=$(mktemp ${shq(`${path}.XXXXXXXX`)}) || exit 1\n` +
    `printf '%s' ${literal(data)} | base64 -d > "$t" && chmod ${mode.toString(8)} "$t" || { rm -f "$t"; exit 1; }\n` +
    `if ln "$t" ${shq(path)} 2>/dev/null; then r=T; else r=F; fi; rm -f "$t"; printf '%s' "$r"`,
  list: (dir: string) =>
    `cd ${shq(dir)} 2>/dev/null || exit 0\nfor f in * .[!.]* ..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; if [ -d "$f" ]; then printf 'd %s\\n' "$f"; else printf 'f %s\\n' "$f"; fi; done`,
  stat: (path: string) => `[ -e ${shq(path)} ] || exit 0\nstat -c '%s %Y %f %u' ${shq(path)}`,
  // The host's own clock against the host's own mtime: no skew between this machine and that one.
  ageMs: (path: string) => `[ -e ${shq(path)} ] || exit 0\nprintf '%s %s' "$(date +%s)" "$(stat -c %Y ${shq(path)})"`,
  // As this machine's mkdir -p with a mode: the parents it makes get that mode too, not the 077 umask's.
  mkdir: (dir: string, mode: number) => `umask ${(~mode & 0o777).toString(8)}\nmkdir -p ${shq(dir)} && chmod ${mode.toString(8)} ${shq(dir)}`,
  // sync(1) of one directory needs coreutils ≥ 8.24; else the whole file system is synced.
  syncDir: (dir: string) => `sync ${shq(dir)} 2>/dev/null || sync`,
}

function parseList(out: string): { name: string; isDirectory: boolean }[] {
  return out
    .split('\n')
    .filter((line) => line.length > 2)
    .map((line) => ({ name: line.slice(2), isDirectory: line[0] === 'd' }))
}

function parseAge(out: string): number | undefined {
  if (out === '') return undefined
  const [now, mtime] = out.split(' ').map(Number)
  return ((now ?? 0) - (mtime ?? 0)) * 1000
}

/**
 * The host's files, through the connection's remote sh (POSIX sh and coreutils' base64, stat, mktemp,
 * tail, od, df there). Same contract as this machine's files (target/files.ts): atomic writes by temp file
 * and rename, 0600 files in 0700 directories (umask 077), exclusive creation by link(2), which either makes
 * the whole file appear or fails because one exists.
 */
export function sshFiles(shell: () => Promise<RemoteShell>, host: string): Files {
  async function sh(text: string): Promise<string> {
    const result = await (await shell()).exec(`umask 077\n${text}`)
    if (result.code !== 0) throw new HostFileError(host, result.output)
    return result.output
  }
  const trimmed = async (text: string) => (await sh(text)).trim()
  const done = async (text: string) => void (await sh(text))
  return {
    read: async (path) => {
      const out = await sh(script.read(path))
      return out.startsWith('F\n') ? decode(out.slice(2)) : undefined
    },
    lastByte: async (path) => {
      const out = await trimmed(script.lastByte(path))
      return out === '' ? undefined : Number(out)
    },
    writeAtomic: (path, data) => done(script.writeAtomic(path, data)),
    append: (path, data) => done(script.append(path, data)),
    createExclusive: async (path, data, mode = 0o600) => (await trimmed(script.createExclusive(path, data, mode))) === 'T',
    rename: (from, to) => done(`mv -f ${shq(from)} ${shq(to)}`),
    remove: (path) => done(`rm -rf ${shq(path)}`),
    removeEmptyDir: async (path) => (await trimmed(`rmdir ${shq(path)} 2>/dev/null && printf T || :`)) === 'T',
    list: async (dir) => parseList(await sh(script.list(dir))),
    stat: async (path) => {
      const out = await trimmed(script.stat(path))
      return out === '' ? undefined : parseStat(out)
    },
    ageMs: async (path) => parseAge(await trimmed(script.ageMs(path))),
    touch: (path) => done(`touch -c ${shq(path)}`),
    mkdir: (dir, mode) => done(script.mkdir(dir, mode)),
    privateDir: (dir) => done(privateDir(dir)),
    syncDir: (dir) => done(script.syncDir(dir)),
  }
}

/** `stat -c '%s %Y %f %u'`: size, mtime in seconds, raw mode in hex, owner. */
export function parseStat(line: string): FileStat {
  const [size, mtime, rawMode, uid] = line.split(' ')
  const mode = parseInt(rawMode ?? '0', 16)
  const type = mode & 0o170000
  return { size: Number(size), mtimeMs: Number(mtime) * 1000, mode, uid: Number(uid), isDirectory: type === 0o040000, isFile: type === 0o100000 }
}
