import type { ClassifiedResult, TestResult } from '../results/types.js';
import type { Baseline, BaselineEntry, BaselinePlatform } from './schema.js';

export const ISSUE_URL_PREFIX = 'https://github.com/openzfs/zfs/issues/';

/**
 * Compares results with a release's known/flaky baseline, the way upstream's zts-report does:
 * - PASS is `pass`; SKIP is `skip` (annotated when the baseline expects that skip, for the test or
 *   for its group's setup, which is what makes a whole group skip);
 * - FAIL or KILLED matching a `known` entry with the same result is `expected-fail`, matching a `maybe`
 *   entry is `flaky`; anything else is `unexpected-fail` (zts-report matches the result exactly, so an
 *   entry expecting FAIL does not excuse a KILLED test, nor one expecting SKIP a FAIL).
 * Without a baseline (unknown release) every FAIL/KILLED is unexpected.
 */
export function classify(results: readonly TestResult[], baseline: Baseline | undefined, platform: BaselinePlatform = 'linux'): ClassifiedResult[] {
  const known = indexEntries(baseline, 'known', platform);
  const maybe = indexEntries(baseline, 'maybe', platform);
  return results.map((result) => {
    const key = baselineKey(result.testId);
    if (result.outcome === 'PASS') return { ...result, classification: 'pass' };
    if (result.outcome === 'SKIP') {
      const setupKey = key.replace(/[^/]+$/, 'setup');
      const why = matching(known, key, 'SKIP') ?? matching(maybe, key, 'SKIP') ?? matching(known, setupKey, 'SKIP') ?? matching(maybe, setupKey, 'SKIP');
      return { ...result, classification: 'skip', ...annotation(why) };
    }
    const expected = matching(known, key, 'FAIL');
    if (expected && result.outcome === 'FAIL') return { ...result, classification: 'expected-fail', ...annotation(expected) };
    const flaky = matching(maybe, key, 'FAIL');
    if (flaky && result.outcome === 'FAIL') return { ...result, classification: 'flaky', ...annotation(flaky) };
    return { ...result, classification: 'unexpected-fail' };
  });
}

/** zts-report's key: the test path after `functional/` or `perf/regression/`. */
export function baselineKey(testId: string): string {
  return testId.replace(/^(?:functional|perf\/regression)\//, '');
}

export function issueUrl(issue: number): string {
  return `${ISSUE_URL_PREFIX}${issue}`;
}

function indexEntries(baseline: Baseline | undefined, list: BaselineEntry['list'], platform: BaselinePlatform): Map<string, BaselineEntry[]> {
  const index = new Map<string, BaselineEntry[]>();
  for (const entry of baseline?.entries ?? []) {
    if (entry.list !== list || !entry.platforms.includes(platform)) continue;
    const bucket = index.get(entry.test);
    if (bucket) bucket.push(entry);
    else index.set(entry.test, [entry]);
  }
  return index;
}

function matching(index: Map<string, BaselineEntry[]>, key: string, expect: BaselineEntry['expect']): BaselineEntry | undefined {
  return index.get(key)?.find((e) => e.expect === expect);
}

function annotation(entry: BaselineEntry | undefined): { issueUrl?: string; reason?: string } {
  if (!entry) return {};
  const out: { issueUrl?: string; reason?: string } = {};
  if (entry.issue !== undefined) out.issueUrl = issueUrl(entry.issue);
  if (entry.reason !== undefined) out.reason = entry.reason;
  return out;
}
