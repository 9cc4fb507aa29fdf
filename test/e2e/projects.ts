/**
 * How the suite's files share the engines (vitest.config.ts). The files of one engine run one at a time; two
 * groups of files run side by side:
 * - this host's files (unit tests and the end-to-end files of this engine);
 * - SECOND_HOST: the files whose environments live on the second host's engine (and, for some, a little of
 *   this one, named after their app). Nothing else touches the second host meanwhile.
 * Then ENGINE_ALONE runs by itself: its files restart this engine, fill its address pools or watch its edge,
 * which nothing may do beside another file. The leftovers check runs last of all.
 */
export const SECOND_HOST = [
  'test/e2e/swarm.test.ts',
  'test/e2e/remote.test.ts',
  'test/e2e/remoteFailures.test.ts',
  'test/e2e/remoteOperate.test.ts',
  'test/e2e/promotion.test.ts',
]

/** The apps of the SECOND_HOST files (each file's APP): this engine's objects named after them change meanwhile. */
export const SECOND_HOST_APPS = ['berthswarm', 'berthremote', 'berthremotef', 'berthremops', 'berthpromo']

export const ENGINE_ALONE = [
  'test/e2e/crash.test.ts',
  'test/e2e/bluegreen.test.ts',
  'test/e2e/networks.test.ts',
  'test/e2e/remoteBlueGreen.test.ts',
]

export const LEFTOVERS = 'test/e2e/leftovers.test.ts'

/** Names an object of `app` (`<app>-…`), as a line of `docker … ls` output shows it. */
export function namedAfter(app: string): RegExp {
  return new RegExp(`(^|[\\s/])${app}-`)
}
