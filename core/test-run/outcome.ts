/**
 * How a target and a run ended, in the results store's vocabulary (RunStatus minus `running`). A run
 * that produced no result at all is an infrastructure error, never a pass; an unexpected failure is
 * a verdict even when other targets broke.
 */
export type RunOutcome = 'passed' | 'failed' | 'infra-error' | 'cancelled';

export interface TargetVerdictInput {
  /** Tests with a final result. */
  tests: number;
  unexpected: number;
  infraErrors: readonly string[];
  cancelled: boolean;
}

export function targetOutcome(t: TargetVerdictInput): RunOutcome {
  if (t.cancelled) return 'cancelled';
  if (t.unexpected > 0) return 'failed';
  if (t.infraErrors.length > 0 || t.tests === 0) return 'infra-error';
  return 'passed';
}

const RANK: Record<RunOutcome, number> = { passed: 0, 'infra-error': 1, failed: 2, cancelled: 3 };

/** The run's status: cancelled if any target was, else the worst of the targets. */
export function runOutcome(outcomes: readonly RunOutcome[]): RunOutcome {
  if (outcomes.length === 0) return 'infra-error';
  return outcomes.reduce((worst, o) => (RANK[o] > RANK[worst] ? o : worst), 'passed' as RunOutcome);
}

/** The CLI's exit code: 0 nothing unexpected failed, 1 an unexpected failure, 3 no verdict (infra, cancelled). */
export function exitCodeOf(outcome: RunOutcome, unexpected: number): 0 | 1 | 3 {
  if (unexpected > 0) return 1;
  return outcome === 'passed' ? 0 : 3;
}
