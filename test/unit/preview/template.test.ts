import { describe, expect, it } from 'vitest'

import { fillTemplate, templateUse } from '../../../src/preview/template.js'

const TEMPLATE = [
  '# ${BERTH_ENV} of ${BERTH_APP}',
  'APP_ENV=${BERTH_ENV}',
  'WEB_PORT=${BERTH_PORT_1}',
  'ADMIN_PORT=${BERTH_PORT_2}',
  'URL=http://127.0.0.1:${BERTH_PORT_1}/',
  'KEPT=${DATABASE_URL} $BERTH_ENV',
  '',
].join('\n')

describe('preview env templates (SPEC §11)', () => {
  it('counts the ports a template uses (its highest BERTH_PORT_n) and names no unknown variable', () => {
    expect(templateUse(TEMPLATE)).toEqual({ portCount: 2, unknown: [] })
    expect(templateUse('A=${BERTH_PORT_3}\n')).toEqual({ portCount: 3, unknown: [] })
    expect(templateUse('A=1\n')).toEqual({ portCount: 0, unknown: [] })
  })

  it('names the BERTH_ variables berth does not fill, once each', () => {
    expect(templateUse('A=${BERTH_PORT_0}\nB=${BERTH_ENVV}\nC=${BERTH_ENVV}\nD=${BERTH_PORT_01}\nE=${OTHER}\n').unknown).toEqual([
      'BERTH_PORT_0',
      'BERTH_ENVV',
      'BERTH_PORT_01',
    ])
  })

  it('fills the name, the app and the ports, and copies everything else as written', () => {
    expect(fillTemplate(TEMPLATE, { app: 'shop', env: 'preview-42', ports: [41000, 41003] })).toBe(
      [
        '# preview-42 of shop',
        'APP_ENV=preview-42',
        'WEB_PORT=41000',
        'ADMIN_PORT=41003',
        'URL=http://127.0.0.1:41000/',
        'KEPT=${DATABASE_URL} $BERTH_ENV',
        '',
      ].join('\n'),
    )
  })

  it('throws rather than write a port it was not given', () => {
    expect(() => fillTemplate('A=${BERTH_PORT_2}\n', { app: 'shop', env: 'preview-1', ports: [41000] })).toThrow(/BERTH_PORT_2/)
  })
})
