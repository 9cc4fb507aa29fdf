import { afterEach, describe, expect, it } from 'vitest'

import { clearSecrets, mask, registerSecrets, secretValuesOf } from '../../src/secrets.js'

const PEM = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'k3Jx9vQ2pLr8sT1uWz4aBcDeFgHiJkLmNoPqRsTuVwXyZ012345', '-----END PRIVATE KEY-----'].join('\n')

describe('masking', () => {
  afterEach(() => clearSecrets())

  it('masks a value wherever it appears, longest first', () => {
    registerSecrets(['abc', 'abcdef'])
    expect(mask('x abcdef y abc')).toBe('x **** y ****')
  })

  it('masks every line of a multi-line secret, printed one line at a time (a PEM key in container logs)', () => {
    registerSecrets([PEM])
    for (const line of PEM.split('\n')) expect(mask(`web | ${line}`)).toBe('web | ****')
    expect(mask(`key=${PEM}`)).toBe('key=****')
  })

  it('masks the lines of a multi-line secret as compose config folds them (indented, CRLF)', () => {
    registerSecrets([PEM.split('\n').join('\r\n')])
    const folded = `      KEY: |\n${PEM.split('\n').map((l) => `        ${l}`).join('\n')}`
    expect(folded.split('\n').map(mask).join('\n')).not.toMatch(/MIIE|k3Jx|BEGIN|END PRIVATE/)
  })

  it('leaves output alone when nothing is registered, and ignores empty values', () => {
    registerSecrets([''])
    expect(mask('nothing secret here')).toBe('nothing secret here')
  })

  it('takes the values of secret-named keys and of the listed ones', () => {
    expect(secretValuesOf({ JWT_SECRET_KEY: 'a', DATABASE_URL: 'b', PORT: '1', EMPTY_TOKEN: '' }, ['DATABASE_URL']).sort()).toEqual(['a', 'b'])
  })
})
