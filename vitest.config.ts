import { defineConfig } from 'vitest/config'

import { ENGINE_ALONE, LEFTOVERS, SECOND_HOST } from './test/e2e/projects.js'

/**
 * Four projects (test/e2e/projects.ts), each one file at a time, run in this order by `npx vitest run`.
 * scripts/test.sh runs this-host and second-host as two processes side by side: one vitest process runs one
 * file at a time across all projects of a group (fileParallelism is the group's worker count).
 */
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 120_000,
    // One file at a time: the end-to-end files share an engine and the fixture's host ports.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'this-host',
          include: ['test/**/*.test.ts'],
          exclude: [...SECOND_HOST, ...ENGINE_ALONE, LEFTOVERS],
          globalSetup: ['test/e2e/globalSetup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: 'second-host', include: SECOND_HOST, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'engine-alone', include: ENGINE_ALONE, sequence: { groupOrder: 2 } } },
      // leftovers.test.ts compares the engines after everything else with the inventory taken before the first
      // test (globalSetup.ts: vitest runs every project's global setup first; scripts/test.sh passes it on).
      { extends: true, test: { name: 'leftovers', include: [LEFTOVERS], globalSetup: ['test/e2e/globalSetup.ts'], sequence: { groupOrder: 3 } } },
    ],
  },
})
