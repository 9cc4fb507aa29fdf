/** Parsers of the kernel's socket tables (/proc/net/tcp and tcp6): which addresses listen on a port. */

const LISTEN = '0A'

/** A hex address of /proc/net/tcp{,6}: 32-bit words in host (little-endian) byte order. */
function decodeAddress(hex: string): string {
  const bytes: number[] = []
  for (let word = 0; word < hex.length; word += 8) {
    const w = hex.slice(word, word + 8)
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(w.slice(i, i + 2), 16))
  }
  if (bytes.length === 4) return bytes.join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16))
  const v4mapped = groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff'
  if (v4mapped) return `::ffff:${bytes.slice(12).join('.')}`
  // Shortest form of the longest run of zero groups, enough for the addresses doctor prints.
  const text = groups.join(':')
  const runs = text.match(/(^|:)0(:0)+(:|$)/g)
  if (!runs) return text
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a))
  return text.replace(longest, '::')
}

/** Local addresses ("127.0.0.1:2019", "[::]:2019") listening on `port` in one socket table. */
export function listenersOnPort(table: string, port: number): string[] {
  const out: string[] = []
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    const [address, portHex] = (fields[1] ?? '').split(':')
    if (!address || !portHex || fields[3] !== LISTEN || parseInt(portHex, 16) !== port) continue
    const ip = decodeAddress(address)
    out.push(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)
  }
  return out
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(listener: string): boolean {
  const ip = listener.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.')
}
