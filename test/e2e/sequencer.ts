import { BaseSequencer, type TestSpecification } from 'vitest/node'

/** The default order, except that the leftovers check runs after every other file. */
export default class LeftoversLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const last = (f: TestSpecification) => (f.moduleId.endsWith('/leftovers.test.ts') ? 1 : 0)
    return [...sorted].sort((a, b) => last(a) - last(b))
  }
}
