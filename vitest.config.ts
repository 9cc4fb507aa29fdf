import { defineConfig } from 'vitest/config'

import LeftoversLast from './test/e2e/sequencer.js'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One inventory of the engines before the first test; test/e2e/leftovers.test.ts, run last, compares with it.
    globalSetup: ['test/e2e/globalSetup.ts'],
    sequence: { sequencer: LeftoversLast },
    // The end-to-end files share one engine and the fixture's host ports: run files one at a time.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
})
