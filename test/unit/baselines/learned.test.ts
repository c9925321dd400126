import { describe, expect, it } from 'vitest';
import { classify } from '../../../core/baselines/classify.js';
import { baselineFor } from '../../../core/baselines/index.js';
import { expiryDue, learnedStats, suggestedList, withLearned, type LearnedEntry, type Observation } from '../../../core/baselines/learned.js';
import { testResult as result } from '../../support/results.js';

const obs = (day: number, state: 'pass' | 'fail', outcome = state === 'pass' ? 'PASS' : 'FAIL'): Observation => ({
  runId: `r${day}`,
  startedAt: `2026-05-${String(day).padStart(2, '0')}T03:00:00.000Z`,
  state,
  outcome,
});

const entry = (over: Partial<LearnedEntry> = {}): LearnedEntry => ({
  flavorId: 'debian12',
  series: '2.3',
  testId: 'functional/cli_root/zpool_import/zpool_import_errata3',
  outcome: 'FAIL',
  list: 'known',
  reason: 'fails on TCG',
  acceptedAt: '2026-05-03T12:00:00.000Z',
  acceptedBy: 'operator:test',
  ...over,
});

describe('learned baseline stats', () => {
  it('counts failures, the current failing streak and the runs since the last failure', () => {
    const s = learnedStats([obs(1, 'fail'), obs(2, 'pass'), obs(3, 'fail', 'KILLED'), obs(4, 'fail', 'KILLED'), obs(5, 'pass'), obs(6, 'pass')]);
    expect(s).toMatchObject({ observedRuns: 6, failures: 3, failRate: 0.5, runsSinceLastFail: 2, usualFailure: 'KILLED', firstFail: undefined });
    expect(s.lastPass?.runId).toBe('r6');
    expect(s.lastFail?.runId).toBe('r4');
    const failing = learnedStats([obs(1, 'pass'), obs(2, 'fail'), obs(3, 'fail')]);
    expect(failing.firstFail?.runId).toBe('r2');
    expect(failing.usualFailure).toBe('FAIL');
    expect(suggestedList(failing)).toBe('maybe');
    expect(suggestedList(learnedStats([obs(1, 'fail'), obs(2, 'fail')]))).toBe('known');
    expect(learnedStats([])).toMatchObject({ observedRuns: 0, failRate: 0 });
  });

  it('expires an entry after K clean runs in a row since acceptance, not counting history before it', () => {
    const before = [obs(1, 'pass'), obs(2, 'pass'), obs(3, 'pass')];
    // Passes before the acceptance (day 3, noon) do not count: they are what history looked like then.
    expect(expiryDue(entry(), before, 2)).toBeUndefined();
    expect(expiryDue(entry(), [...before, obs(4, 'pass'), obs(5, 'fail'), obs(6, 'pass')], 2)).toBeUndefined();
    expect(expiryDue(entry(), [...before, obs(4, 'pass'), obs(5, 'fail'), obs(6, 'pass'), obs(7, 'pass')], 2)).toMatch(/not seen failing in 2 run/);
    expect(expiryDue(entry({ expiredAt: '2026-05-05T00:00:00.000Z' }), [obs(6, 'pass'), obs(7, 'pass')], 1)).toBeUndefined();
  });
});

describe('withLearned', () => {
  it('adds active entries to the seed so classify excuses them, the outcome exactly as named', () => {
    const seed = baselineFor('2.3.2')!;
    const merged = withLearned(seed, [
      entry(),
      entry({ testId: 'functional/a/hangs', outcome: 'KILLED', list: 'maybe' }),
      entry({ testId: 'functional/a/gone', expiredAt: '2026-05-04T00:00:00.000Z' }),
    ])!;
    expect(merged.entries.length).toBe(seed.entries.length + 2);
    const classified = classify(
      [
        result('functional/cli_root/zpool_import/zpool_import_errata3', 'FAIL'),
        result('functional/cli_root/zpool_import/zpool_import_errata3', 'KILLED'),
        result('functional/a/hangs', 'KILLED'),
        result('functional/a/hangs', 'FAIL'),
        result('functional/a/gone', 'FAIL'),
      ],
      merged,
    );
    expect(classified.map((c) => c.classification)).toEqual(['expected-fail', 'unexpected-fail', 'flaky', 'unexpected-fail', 'unexpected-fail']);
    expect(classified[0]?.reason).toBe('accepted on debian12 (2026-05-03): fails on TCG');
    // No seed (a series we ship nothing for): the learned entries alone.
    expect(withLearned(undefined, [entry()])?.entries).toHaveLength(1);
    expect(withLearned(seed, [])).toBe(seed);
  });
});
