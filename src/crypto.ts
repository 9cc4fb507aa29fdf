import type { Hash } from 'node:crypto'

/**
 * node:crypto, loaded on first use: loading it is about 2 ms of a command's start, and `berth status` hashes
 * nothing (issue 15). Every module of berth's that hashes or draws random bytes goes through here.
 */
function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto')
}

export function createHash(algorithm: string): Hash {
  return nodeCrypto().createHash(algorithm)
}

/** `bytes` random bytes as hex (temporary file names, nonces). */
export function randomHex(bytes: number): string {
  return nodeCrypto().randomBytes(bytes).toString('hex')
}
