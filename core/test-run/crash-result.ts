import type { CrashMark } from '../crash/mark.js';
import type { TestResult } from '../results/types.js';
import { testsLeft } from './chunk-runfile.js';

/**
 * The test the guest died under: the one the runner last said it was running, else the first of the
 * chunk that has no result yet (the runner prints a result only when a test ends). Undefined when
 * every test has a result, so the crash happened outside any test (a cleanup script, say).
 */
export function testInFlight(chunkTestIds: readonly string[], finished: readonly TestResult[], current: string | undefined): string | undefined {
  const left = testsLeft(chunkTestIds, finished);
  if (current !== undefined && left.includes(current)) return current;
  return left[0];
}

/** The CRASH result recorded for that test, so the next clone runs the tests after it and never this one again. */
export function crashResult(testId: string, crash: CrashMark, durationSeconds: number): TestResult {
  return {
    testId,
    group: testId.includes('/') ? testId.slice(0, testId.lastIndexOf('/')) : testId,
    kind: 'test',
    outcome: 'CRASH',
    reran: false,
    durationSeconds: Math.max(0, Math.round(durationSeconds * 100) / 100),
    // The runner never reported on it: whoever it ran as is not known.
    user: '',
    linuxSection: false,
    crash,
  };
}
