import { describe, expect, it } from 'vitest'

import { sharedNetworkCheck } from '../../../../src/doctor/checks/sharedNetworks.js'
import type { SharedNameFinding } from '../../../../src/preflight/sharedNetworks.js'

describe('sharedNetworkCheck', () => {
  const finding = (environment: string, accepted: boolean): SharedNameFinding => ({ environment, network: 'platform', service: 'web', holder: 'compose project shop-staging, container shop-staging-web-1', accepted })

  it('is ok when no service shares its name on a shared network', () => {
    expect(sharedNetworkCheck([]).status).toBe('ok')
  })

  it('warns about each shared name, and says which environments did not accept it and are refused', () => {
    const check = sharedNetworkCheck([finding('production', true), finding('preview', false)])
    expect(check).toMatchObject({ status: 'warn', summary: '2 service names answered by more than one environment on a shared network' })
    expect(check.details).toEqual([
      'production: web answers as "web" on the shared network platform, and so does compose project shop-staging, container shop-staging-web-1 (accepted: shared_networks)',
      'preview: web answers as "web" on the shared network platform, and so does compose project shop-staging, container shop-staging-web-1',
    ])
    expect(check.hint).toMatch(/; preview did not accept it under shared_networks, and its next deploy is refused$/)
    expect(sharedNetworkCheck([finding('production', true)]).hint).not.toContain('refused')
  })
})
