import { describe, expect, it } from 'vitest';
import { isUnexpected, rerunCandidates, resultClass } from '../../../core/results/result-class.js';
import type { RerunCandidate } from '../../../core/results/result-class.js';

const failing = { kind: 'test', outcome: 'FAIL', classification: 'unexpected-fail' } as const;

describe('resultClass', () => {
  it('gives PASS and SKIP no class, and a crash, an infrastructure error and a baseline entry their own', () => {
    expect(resultClass({ ...failing, outcome: 'PASS', classification: 'pass' })).toBeUndefined();
    expect(resultClass({ ...failing, outcome: 'SKIP', classification: 'skip' })).toBeUndefined();
    expect(resultClass({ ...failing, outcome: 'CRASH' })).toBe('crash');
    expect(resultClass({ ...failing, infraError: 'VM lost' })).toBe('infra');
    expect(resultClass({ ...failing, classification: 'expected-fail' })).toBe('known');
    // zts-report's `maybe` table: upstream says it may fail here; that is known, not ours to flag.
    expect(resultClass({ ...failing, classification: 'flaky' })).toBe('known');
  });

  it('calls an unexpected failure a regression until a re-run passes, then flaky', () => {
    expect(resultClass(failing)).toBe('regression');
    expect(resultClass(failing, ['FAIL'])).toBe('regression');
    expect(resultClass({ ...failing, outcome: 'KILLED' }, ['KILLED', 'PASS'])).toBe('flaky');
    expect(isUnexpected('regression')).toBe(true);
    expect(isUnexpected('crash')).toBe(true);
    expect(isUnexpected('flaky')).toBe(false);
    expect(isUnexpected(undefined)).toBe(false);
  });
});

describe('rerunCandidates', () => {
  const r = (testId: string, over: Partial<RerunCandidate> = {}): RerunCandidate => ({ ...failing, testId, reruns: [], ...over });

  it('re-runs tests still failing, not crashes, known failures, setups, or tests re-run enough already', () => {
    const results = [
      r('fails'),
      r('killed', { outcome: 'KILLED' }),
      r('crashed', { outcome: 'CRASH' }),
      r('known', { classification: 'expected-fail' }),
      r('setup', { kind: 'setup' }),
      r('passed', { outcome: 'PASS', classification: 'pass' }),
      r('rerun-once', { reruns: ['FAIL'] }),
      r('already-flaky', { reruns: ['PASS'] }),
    ];
    expect(rerunCandidates(results, 1)).toEqual(['fails', 'killed']);
    expect(rerunCandidates(results, 2)).toEqual(['fails', 'killed', 'rerun-once']);
  });
});
