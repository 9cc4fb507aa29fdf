import { describe, expect, it } from 'vitest'

import type { HttpAnswer, HttpRequest } from '../../../../src/health/probe.js'
import { deletableDigests, pruneRegistry } from '../../../../src/strategy/swarm/registry.js'
import type { Target } from '../../../../src/target/target.js'
import { record } from '../../support/operated.js'

const REG = '127.0.0.1:5000'
const d = (c: string) => `sha256:${c.repeat(64)}`
const release = (tag: string, images: Record<string, string>) => ({ ...record(tag, 'superseded'), images })
const A = release('20261201-080000', { web: `${REG}/shop-web:20261201-080000@${d('a')}`, store: `${REG}/shop-store:20261201-080000@${d('c')}`, cache: 'redis:7' })
const B = release('20261201-090000', { web: `${REG}/shop-web:20261201-090000@${d('b')}`, store: `${REG}/shop-store:20261201-090000@${d('c')}` })

/** A target whose requests a function answers, each noted. */
function answering(answer: (r: HttpRequest) => HttpAnswer | Error): { target: Pick<Target, 'request' | 'description'>; sent: string[] } {
  const sent: string[] = []
  return {
    sent,
    target: {
      description: 'host-b',
      request: async (r) => {
        sent.push(`${r.method} ${r.url}`)
        const a = answer(r)
        if (a instanceof Error) throw a
        return a
      },
    },
  }
}
const status = (n: number): HttpAnswer => ({ status: n, headers: {}, body: '' })

describe('deletableDigests', () => {
  it("names the dropped releases' digests in the registry, never one a kept release runs, nor an image of another registry", () => {
    expect(deletableDigests(REG, [A], [B])).toEqual([`shop-web@${d('a')}`])
    expect(deletableDigests(REG, [A, B], [])).toEqual([`shop-store@${d('c')}`, `shop-web@${d('a')}`, `shop-web@${d('b')}`])
    expect(deletableDigests('other:5000', [A], [])).toEqual([])
  })

  it('keeps a registry path prefix out of the repository name', () => {
    const r = release('20261201-080000', { web: `${REG}/team/shop-web:20261201-080000@${d('a')}` })
    expect(deletableDigests(`${REG}/team`, [r], [])).toEqual([`shop-web@${d('a')}`])
  })
})

describe('pruneRegistry', () => {
  it('deletes each manifest by digest, over plain HTTP when HTTPS does not answer', async () => {
    const { target, sent } = answering((r) => (r.url.startsWith('https:') ? new Error('ECONNRESET') : r.method === 'GET' ? status(200) : status(202)))
    expect(await pruneRegistry({ target: target as Target }, REG, [A], [B])).toEqual({ deleted: [`shop-web@${d('a')}`] })
    expect(sent).toEqual([`GET https://${REG}/v2/`, `GET http://${REG}/v2/`, `DELETE http://${REG}/v2/shop-web/manifests/${d('a')}`])
  })

  it('keeps the tags and says why when the registry does not allow deletes, or asks for credentials', async () => {
    const disabled = answering((r) => (r.method === 'GET' ? status(200) : status(405)))
    expect((await pruneRegistry({ target: disabled.target as Target }, REG, [A, B], [])).kept).toMatch(/does not allow deletes/)
    expect(disabled.sent.filter((s) => s.startsWith('DELETE'))).toHaveLength(1)
    const locked = answering((r) => (r.method === 'GET' ? status(401) : status(401)))
    expect((await pruneRegistry({ target: locked.target as Target }, REG, [A], [])).kept).toMatch(/asks for credentials to delete \(HTTP 401\)/)
  })

  it('counts a manifest already gone as nothing to do, and sends nothing when nothing is deletable', async () => {
    const gone = answering((r) => (r.method === 'GET' ? status(200) : status(404)))
    expect(await pruneRegistry({ target: gone.target as Target }, REG, [A], [])).toEqual({ deleted: [] })
    const none = answering(() => status(200))
    expect(await pruneRegistry({ target: none.target as Target }, REG, [A], [A])).toEqual({ deleted: [] })
    expect(none.sent.filter((s) => !s.startsWith('GET'))).toEqual([])
    const elsewhere = answering(() => status(200))
    expect(await pruneRegistry({ target: elsewhere.target as Target }, REG, [release('20261201-070000', { web: 'shop-web:20261201-070000' })], [])).toEqual({ deleted: [] })
    expect(elsewhere.sent).toEqual([])
  })

  it("asks the registry for the digests of unpinned tags (a failed release's), and keeps one a kept release's tag has", async () => {
    const failed = release('20261201-100000', { web: `${REG}/shop-web:20261201-100000`, store: `${REG}/shop-store:20261201-100000` })
    const keptFailed = release('20261201-110000', { web: `${REG}/shop-web:20261201-110000` })
    const digests: Record<string, string> = { '20261201-100000': d('e'), '20261201-110000': d('e') }
    const { target, sent } = answering((r) => {
      if (r.method === 'GET') return status(200)
      if (r.method === 'HEAD') {
        expect(r.headers?.accept).toContain('application/vnd.docker.distribution.manifest.v2+json')
        const tag = r.url.split('/').pop() as string
        return r.url.includes('shop-store') ? status(404) : { status: 200, headers: { 'docker-content-digest': digests[tag] }, body: '' }
      }
      return status(202)
    })
    // web of the failed release has the digest the kept one's tag has (an identical build): nothing to delete.
    expect(await pruneRegistry({ target: target as Target }, REG, [failed], [keptFailed])).toEqual({ deleted: [] })
    expect(sent.filter((s) => s.startsWith('DELETE'))).toEqual([])
    const alone = answering((r) => (r.method === 'HEAD' ? { status: 200, headers: { 'docker-content-digest': d('e') }, body: '' } : status(r.method === 'GET' ? 200 : 202)))
    expect(await pruneRegistry({ target: alone.target as Target }, REG, [failed], [])).toEqual({ deleted: [`shop-store@${d('e')}`, `shop-web@${d('e')}`] })
  })
})
