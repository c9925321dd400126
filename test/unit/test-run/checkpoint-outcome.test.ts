import { describe, expect, it } from 'vitest';
import { parseResultLines } from '../../../core/results/result-line.js';
import { parseHeartbeat, resumePoint } from '../../../core/test-run/checkpoint.js';
import { countTests } from '../../../core/test-run/chunk-results.js';
import { newRunId, storeFlavorId, targetWorkflowId } from '../../../core/test-run/ids.js';
import { MatrixRunInputSchema, describeRequest } from '../../../core/test-run/input.js';
import { exitCodeOf, runOutcome, targetOutcome } from '../../../core/test-run/outcome.js';
import { etaSeconds } from '../../../core/test-run/progress.js';
import { runKeys } from '../../../core/test-run/keys.js';

const lines = parseResultLines(
  [
    'Test: /s/tests/functional/c/setup (run as root) [00:00] [PASS]',
    'Test: /s/tests/functional/c/t01 (run as root) [00:01] [PASS]',
    'Test: /s/tests/functional/c/t02 (run as root) [00:01] [FAIL]',
    'Test: /s/tests/functional/c/t03 (run as root) [00:01] [PASS]',
  ].join('\n'),
);

describe('resumePoint', () => {
  it('takes the journal when it is ahead of the last heartbeat the server got', () => {
    expect(resumePoint(lines.slice(0, 2), lines)).toEqual(lines);
  });
  it('takes the server copy when the journal is behind or absent (a retry on another host)', () => {
    expect(resumePoint(lines, lines.slice(0, 1))).toEqual(lines);
    expect(resumePoint(lines, [])).toEqual(lines);
    expect(resumePoint(undefined, [])).toEqual([]);
  });
  it('prefers the server copy when the two disagree', () => {
    const other = [lines[0]!, { ...lines[1]!, outcome: 'FAIL' as const }];
    expect(resumePoint(lines.slice(0, 2), other)).toEqual(lines.slice(0, 2));
  });
  it('reads heartbeat details defensively', () => {
    expect(parseHeartbeat({ finished: lines, current: 'functional/c/t04' })?.finished).toHaveLength(4);
    expect(parseHeartbeat({ finished: [{ testId: 1 }] })).toBeUndefined();
    expect(parseHeartbeat(undefined)).toBeUndefined();
  });
});

describe('counts and outcomes', () => {
  it('counts the final outcome of each test, not setups, the last result winning', () => {
    expect(countTests([...lines, { ...lines[2]!, outcome: 'PASS' }])).toEqual({ PASS: 3, FAIL: 0, SKIP: 0, KILLED: 0, CRASH: 0 });
  });
  it('judges a target: no result is an infrastructure error, never a pass', () => {
    expect(targetOutcome({ tests: 0, unexpected: 0, infraErrors: [], cancelled: false })).toBe('infra-error');
    expect(targetOutcome({ tests: 3, unexpected: 0, infraErrors: [], cancelled: false })).toBe('passed');
    expect(targetOutcome({ tests: 3, unexpected: 1, infraErrors: ['x'], cancelled: false })).toBe('failed');
    expect(targetOutcome({ tests: 3, unexpected: 1, infraErrors: [], cancelled: true })).toBe('cancelled');
    expect(runOutcome(['passed', 'infra-error'])).toBe('infra-error');
    expect(runOutcome(['infra-error', 'failed', 'passed'])).toBe('failed');
    expect(runOutcome([])).toBe('infra-error');
    expect(exitCodeOf('passed', 0)).toBe(0);
    expect(exitCodeOf('cancelled', 2)).toBe(1);
    expect(exitCodeOf('infra-error', 0)).toBe(3);
  });
  it('estimates what is left from the measured speed once there is one', () => {
    expect(etaSeconds({ remainingCost: 10, measuredSeconds: 0, measuredCost: 0, basis: 'test-count', parallelism: 1 })).toBe(600);
    expect(etaSeconds({ remainingCost: 10, measuredSeconds: 5, measuredCost: 10, basis: 'test-count', parallelism: 2 })).toBe(2.5);
  });
});

describe('names', () => {
  it('run ids sort by time and fit artifact keys', () => {
    const id = newRunId(new Date('2026-04-22T03:34:17.694Z'), () => 0.5);
    expect(id).toMatch(/^r20260422-033417-[a-z2-9]{4}$/);
    expect(runKeys.chunkResults(id, storeFlavorId('native', 'lab1'), 1, 7)).toBe(`runs/${id}/native-lab1/1/chunks/007/results.json`);
    expect(targetWorkflowId(id, 'debian13')).toBe(`zts-run-${id}-debian13`);
  });
  it('validates the run input the CLI sends', () => {
    const ok = MatrixRunInputSchema.parse({
      runId: 'r1',
      hostId: 'lab1',
      targets: ['native'],
      request: { kind: 'selection', selection: { suite: 'quick' } },
    });
    expect(ok.chunkSize).toBe(50);
    expect(describeRequest(ok.request)).toBe('suite:quick');
    expect(MatrixRunInputSchema.safeParse({ ...ok, targets: ['native', 'native'] }).success).toBe(false);
    expect(MatrixRunInputSchema.safeParse({ ...ok, request: { kind: 'selection', selection: { run: 'a', tags: ['b'] } } }).success).toBe(false);
  });
});
