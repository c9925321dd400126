import type { ClassifiedResult, TestResult } from '../results/types.js';
import type { BaselineEntry, BaselinePlatform } from './schema.js';

/** An entry classify matches: upstream's (FAIL or SKIP), or a learned one, which may excuse KILLED. */
export type ClassifyEntry = Omit<BaselineEntry, 'expect'> & { expect: BaselineEntry['expect'] | 'KILLED' };
/** What classify compares with: a shipped baseline, or one with learned entries added (core/baselines/learned.ts). */
export interface ClassifyBaseline {
  entries: readonly ClassifyEntry[];
}

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
export function classify(results: readonly TestResult[], baseline: ClassifyBaseline | undefined, platform: BaselinePlatform = 'linux'): ClassifiedResult[] {
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
    // Upstream's tables only excuse FAIL; a learned entry (core/baselines/learned.ts) can excuse KILLED.
    const failed = result.outcome === 'FAIL' || result.outcome === 'KILLED' ? result.outcome : undefined;
    const expected = failed && matching(known, key, failed);
    if (expected) return { ...result, classification: 'expected-fail', ...annotation(expected) };
    const flaky = failed && matching(maybe, key, failed);
    if (flaky) return { ...result, classification: 'flaky', ...annotation(flaky) };
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

function indexEntries(baseline: ClassifyBaseline | undefined, list: BaselineEntry['list'], platform: BaselinePlatform): Map<string, ClassifyEntry[]> {
  const index = new Map<string, ClassifyEntry[]>();
  for (const entry of baseline?.entries ?? []) {
    if (entry.list !== list || !entry.platforms.includes(platform)) continue;
    const bucket = index.get(entry.test);
    if (bucket) bucket.push(entry);
    else index.set(entry.test, [entry]);
  }
  return index;
}

function matching(index: Map<string, ClassifyEntry[]>, key: string, expect: ClassifyEntry['expect']): ClassifyEntry | undefined {
  return index.get(key)?.find((e) => e.expect === expect);
}

function annotation(entry: ClassifyEntry | undefined): { issueUrl?: string; reason?: string } {
  if (!entry) return {};
  const out: { issueUrl?: string; reason?: string } = {};
  if (entry.issue !== undefined) out.issueUrl = issueUrl(entry.issue);
  if (entry.reason !== undefined) out.reason = entry.reason;
  return out;
}
