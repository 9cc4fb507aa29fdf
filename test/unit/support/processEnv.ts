import { afterEach, beforeEach } from 'vitest'

import { clearSecrets } from '../../../src/secrets.js'

/** For tests of the runner: no secret registered and process.env as it was, before and after each test. */
export function cleanSecretsAndEnv(after: () => void = () => {}): void {
  const saved = { ...process.env }
  beforeEach(() => clearSecrets())
  afterEach(() => {
    clearSecrets()
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
    after()
  })
}
