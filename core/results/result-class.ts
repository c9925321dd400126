import { z } from 'zod';
import type { Classification, ScriptKind, TestOutcome } from './types.js';

/**
 * What a non-passing result means, decided before anyone reads it:
 * - `regression`: an unexpected FAIL/KILLED that failed every attempt (the first and each re-run);
 * - `flaky`: an unexpected FAIL/KILLED that passed on a re-run (the run does not fail for it, but says so);
 * - `known`: the failure is in the baseline of the flavor's OpenZFS version (zts-report's known/maybe tables);
 * - `crash`: the guest kernel died while the test ran (never re-run: a crash is not a flake);
 * - `infra`: the infrastructure, not the test, is to blame (the result carries the infrastructure error).
 * PASS and SKIP have no class.
 */
export const ResultClassSchema = z.enum(['regression', 'flaky', 'known', 'crash', 'infra']);
export type ResultClass = z.infer<typeof ResultClassSchema>;

/** Default re-runs of an unexpected FAIL/KILLED (`run.reruns`; 0 turns re-runs off). */
export const DEFAULT_RERUNS = 1;
export const RerunsSchema = z.number().int().min(0).max(5);

export interface ClassInput {
  kind: ScriptKind;
  outcome: TestOutcome;
  classification: Classification;
  infraError?: string | undefined;
}

/** The class of a result, given the outcomes of its re-runs so far (oldest first). */
export function resultClass(r: ClassInput, reruns: readonly TestOutcome[] = []): ResultClass | undefined {
  if (r.outcome === 'PASS' || r.outcome === 'SKIP') return undefined;
  if (r.outcome === 'CRASH') return 'crash';
  if (r.infraError !== undefined) return 'infra';
  if (r.classification === 'expected-fail' || r.classification === 'flaky') return 'known';
  return reruns.includes('PASS') ? 'flaky' : 'regression';
}

/** A result the target's verdict counts against it: a regression or a crash (a flaky test passes, but is reported). */
export function isUnexpected(resultClassOrNone: ResultClass | undefined): boolean {
  return resultClassOrNone === 'regression' || resultClassOrNone === 'crash';
}

export interface RerunCandidate extends ClassInput {
  testId: string;
  reruns: readonly TestOutcome[];
}

/**
 * The tests a shard re-runs in round `round` (1-based): tests (not setup/cleanup) whose class is
 * still `regression` and that have been re-run fewer than `round` times. Crashes, known failures and
 * infrastructure errors are never re-run; a test that passed once is already `flaky`.
 */
export function rerunCandidates(results: readonly RerunCandidate[], round: number): string[] {
  return results.filter((r) => r.kind === 'test' && r.reruns.length < round && resultClass(r, r.reruns) === 'regression').map((r) => r.testId);
}

export function emptyClassCounts(): Record<ResultClass, number> {
  return { regression: 0, flaky: 0, known: 0, crash: 0, infra: 0 };
}
