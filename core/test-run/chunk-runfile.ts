import type { RunfileDocument } from '../runfile/document.js';
import { listTests, remainingRunfile } from '../runfile/select.js';
import type { TestResult } from '../results/types.js';

/**
 * The runfile one chunk attempt runs: the shard's runfile cut to the chunk's tests, minus the tests
 * earlier attempts finished. Each kept group keeps its pre/post (setup runs again before the rest);
 * the test that was in flight when an attempt died has no result line, so it runs again.
 */
export function chunkRunfile(shard: RunfileDocument, chunkTestIds: readonly string[], finished: readonly TestResult[] = []): RunfileDocument {
  const wanted = new Set(chunkTestIds);
  const done = new Set(finished.filter((r) => r.kind === 'test').map((r) => r.testId));
  const drop = listTests(shard)
    .map((t) => t.testId)
    .filter((id) => !wanted.has(id) || done.has(id));
  return remainingRunfile(shard, drop);
}

/** Test ids (not setup/cleanup) the chunk still has to run. */
export function testsLeft(chunkTestIds: readonly string[], finished: readonly TestResult[]): string[] {
  const done = new Set(finished.filter((r) => r.kind === 'test').map((r) => r.testId));
  return chunkTestIds.filter((id) => !done.has(id));
}
