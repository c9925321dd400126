import { ApplicationFailure } from '@temporalio/activity';
import { ZodError } from 'zod';
import type { RunOutcome } from '../../core/test-run/outcome.js';
import type { PlannedTarget, RecordedChunk, TargetTotals } from '../../core/test-run/types.js';
import { recordRunOutcome } from '../../lib/metrics.js';
import type { CoordinatorMetrics } from '../../lib/metrics.js';
import type { ArtifactStore } from '../../lib/s3.js';
import type { ResultsStore } from '../../lib/store/store.js';
import { recordSkippedTargets, type SkippedTarget } from '../../lib/store/skipped-targets.js';
import { planAndFileTarget, type PlanTargetInput } from './plan.js';
import { recordRecipeResult, type RecipeResultInput } from './recipe.js';
import {
  finishZtsTarget,
  recordZtsChunk,
  recordZtsRerun,
  ztsRerunCandidates,
  type FinishTargetInput,
  type RecordChunkInput,
  type RecordRerunInput,
  type RerunCandidatesInput,
} from './record.js';

export interface TestRunActivityDeps {
  store: ResultsStore;
  artifacts: ArtifactStore;
  metrics?: CoordinatorMetrics;
  now?: () => Date;
  /** `baseline.expireAfterRuns`: learned entries whose test passed this many runs in a row drop out at a target's close. */
  expireAfterRuns?: number;
}

export interface OpenRunInput {
  runId: string;
  workflowId: string;
  /** `suite:quick`, `runfile:mine.run` … */
  selection: string;
  /** What the user targeted: a flavor id, `native`, or `all`. */
  target: string;
  startedAt: string;
  /** Flavors `all` left out, kept with the run (`run_skipped_targets`). */
  skipped?: SkippedTarget[];
}

/**
 * Coordinator activities of a ZTS run: the run's row, the plan, each chunk's results into the store,
 * and the close. All writes are idempotent; input that fails validation fails the same way again and
 * is thrown as non-retryable.
 */
export function createTestRunActivities(deps: TestRunActivityDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    async openZtsRun(input: OpenRunInput): Promise<void> {
      await validated(() =>
        deps.store.recordRun({
          id: input.runId,
          workflowId: input.workflowId,
          selection: input.selection,
          target: input.target,
          startedAt: input.startedAt,
          status: 'running',
        }),
      );
      if (input.skipped?.length) await validated(() => recordSkippedTargets(deps.store.db, input.runId, input.skipped ?? []));
    },

    async planZtsTarget(input: PlanTargetInput): Promise<PlannedTarget> {
      return validated(() => planAndFileTarget(input, { store: input.dryRun ? undefined : deps.store, artifacts: deps.artifacts, now }));
    },

    async recordZtsChunk(input: RecordChunkInput): Promise<RecordedChunk> {
      return validated(() => recordZtsChunk(input, deps));
    },

    async ztsRerunCandidates(input: RerunCandidatesInput): Promise<string[]> {
      return validated(() => ztsRerunCandidates(input, deps));
    },

    async recordZtsRerun(input: RecordRerunInput): Promise<{ rerun: number; passed: number }> {
      return validated(() => recordZtsRerun(input, deps));
    },

    async finishZtsTarget(input: FinishTargetInput): Promise<Omit<TargetTotals, 'infraErrors'>> {
      return validated(() => finishZtsTarget(input, deps));
    },

    /** A recipe's verdict on one flavor into the store and S3 (`recipe/<name>`, beside ZTS results). */
    async recordRecipeResult(input: RecipeResultInput): ReturnType<typeof recordRecipeResult> {
      return validated(() => recordRecipeResult(input, { store: deps.store, artifacts: deps.artifacts, now }));
    },

    async closeZtsRun(input: { runId: string; outcome: RunOutcome }): Promise<void> {
      const before = await deps.store.getRun(input.runId);
      if (!before) return;
      await validated(() => deps.store.finishRun(input.runId, { status: input.outcome, endedAt: now().toISOString() }));
      if (deps.metrics && before.status === 'running') {
        const seconds = (now().getTime() - Date.parse(before.startedAt)) / 1000;
        recordRunOutcome(deps.metrics, input.outcome, seconds >= 0 ? seconds : undefined);
      }
    },
  };
}

export type TestRunActivities = ReturnType<typeof createTestRunActivities>;

async function validated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ZodError) throw ApplicationFailure.nonRetryable(`ZTS run bookkeeping input failed validation: ${err.message}`, 'InvalidRunInput');
    throw err;
  }
}
