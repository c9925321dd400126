import type { TestResult } from '../../core/results/types.js';

/** A test's result as the runner reports it (a script of `functional/<group>/<name>`), for tests that need one. */
export function testResult(testId: string, outcome: TestResult['outcome'], over: Partial<TestResult> = {}): TestResult {
  return {
    testId,
    group: testId.slice(0, testId.lastIndexOf('/')),
    kind: 'test',
    outcome,
    reran: false,
    durationSeconds: 1,
    user: 'root',
    linuxSection: false,
    ...over,
  };
}
