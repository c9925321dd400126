import { ApplicationFailure, executeChild, upsertSearchAttributes } from '@temporalio/workflow';
import { ScheduledRunInputSchema } from '../core/schedule/definition.js';
import type { ScheduledRunInput } from '../core/schedule/definition.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { newRunId, runWorkflowId } from '../core/test-run/ids.js';
import type { MatrixRunResult } from '../core/test-run/types.js';
import { parseInput } from './failures.js';
import { matrixRun } from './test-run.js';

/**
 * One firing of a zfslab schedule: gives the run template its own run id and runs it as an ordinary
 * `matrixRun` child (so `zfslab runs`, `show` and the UI see it like any other run). A run that did
 * not pass fails this workflow, so the schedule's history shows it and `--pause-on-failure` pauses
 * the schedule on it.
 */
export async function scheduledTestRun(rawInput: ScheduledRunInput): Promise<MatrixRunResult> {
  const input = parseInput(ScheduledRunInputSchema, rawInput);
  // Date and Math.random are deterministic in the workflow sandbox (replayed from history).
  const runId = newRunId(new Date(), Math.random);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'zts-scheduled' },
    { key: SEARCH_ATTRIBUTES.schedule, value: input.scheduleId },
    { key: SEARCH_ATTRIBUTES.run, value: runId },
    { key: SEARCH_ATTRIBUTES.host, value: input.run.hostId },
    { key: SEARCH_ATTRIBUTES.flavor, value: input.run.targets.length === 1 ? input.run.targets[0]! : 'matrix' },
  ]);
  const result = await executeChild(matrixRun, {
    workflowId: runWorkflowId(runId),
    args: [{ ...input.run, runId, dryRun: false, scheduleId: input.scheduleId }],
  });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: result.outcome }]);
  if (result.outcome !== 'passed') {
    throw ApplicationFailure.nonRetryable(`scheduled run ${runId} of ${input.scheduleId}: ${result.outcome}`, 'ScheduledRunNotPassed', {
      runId,
      outcome: result.outcome,
    });
  }
  return result;
}
