import type { RunSummary } from './summary.js';
import type { TestResult } from './types.js';

/** What test-runner.py's exit status says (TestRun.summary; `fail()` exits 1 before 2.4, 255 from 2.4). */
export type RunnerExit = 'all-passed' | 'failures' | 'no-tests' | 'reran' | 'runner-error' | 'signalled';

export function describeRunnerExit(exitCode: number | null): RunnerExit {
  switch (exitCode) {
    case null:
      return 'signalled';
    case 0:
      return 'all-passed';
    case 1:
      return 'failures';
    case 2:
      return 'no-tests';
    case 3:
      return 'reran';
    default:
      return 'runner-error';
  }
}

export interface RunVerdict {
  /** `infra-error`: the run cannot be judged from its output; it is never a pass. */
  status: 'completed' | 'infra-error';
  /** Why it is an infrastructure error (empty when completed). */
  reasons: string[];
  runnerExit: RunnerExit;
}

/**
 * Judges a run by what it printed, never by its exit code alone: zfs-tests.sh exits 0 when nothing
 * ran, and test-runner.py's `fail()` exits 1 like an ordinary test failure before 2.4. A run counts
 * only if it printed at least one result line and a Results Summary that agrees with those lines.
 */
export function judgeRun(input: { results: readonly TestResult[]; summary: RunSummary | undefined; exitCode: number | null }): RunVerdict {
  const reasons: string[] = [];
  const runnerExit = describeRunnerExit(input.exitCode);
  if (input.results.length === 0) reasons.push('no result line was printed');
  if (!input.summary) reasons.push('no Results Summary block was printed');
  if (runnerExit === 'signalled') reasons.push('the runner was killed by a signal');
  if (runnerExit === 'runner-error') reasons.push(`the runner failed (exit ${input.exitCode})`);
  if (runnerExit === 'no-tests') reasons.push('the runner found no test to run (exit 2)');
  if (input.summary) {
    // The summary counts every script, including failsafe runs that only reach the log file, and
    // `-q` hides PASS lines; so each count may exceed the lines seen, but never fall below them.
    for (const outcome of ['PASS', 'FAIL', 'SKIP', 'KILLED'] as const) {
      const seen = input.results.filter((r) => r.outcome === outcome).length;
      if (seen > input.summary.counts[outcome]) {
        reasons.push(`${seen} ${outcome} lines but the summary counts ${input.summary.counts[outcome]}`);
      }
    }
  }
  return { status: reasons.length === 0 ? 'completed' : 'infra-error', reasons, runnerExit };
}
