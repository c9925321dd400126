import {
  CancellationScope,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { TestRunActivities } from '../activities/test-runs/index.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { emptyCounts } from '../core/test-run/chunk-results.js';
import { targetWorkflowId } from '../core/test-run/ids.js';
import { MatrixRunInputSchema, describeRequest, suiteOf } from '../core/test-run/input.js';
import type { MatrixRunInput } from '../core/test-run/input.js';
import { runOutcome } from '../core/test-run/outcome.js';
import { RUN_PROGRESS_QUERY } from '../core/test-run/progress.js';
import type { RunProgressView } from '../core/test-run/progress.js';
import type { MatrixRunResult, TargetRunResult } from '../core/test-run/types.js';
import { failureMessage, parseInput } from './failures.js';
import { targetRun } from './target-run.js';

export const runProgressQuery = defineQuery<RunProgressView>(RUN_PROGRESS_QUERY);

/** Opens and closes the run's row in the results store (coordinator activities). */
const resultsStore = proxyActivities<TestRunActivities>({ startToCloseTimeout: '5m', retry: { initialInterval: '1s', maximumInterval: '30s' } });

/**
 * One ZTS run over targets (× shards): opens the run in the results store, runs one child workflow
 * per target (`targetRun`, id `zts-run-<runId>-<target>`, so the CLI can follow each), and closes the
 * run with the worst outcome. A cancel reaches every child, which stops its runners and records what
 * finished; the run is then closed as cancelled before the cancel is rethrown.
 */
export async function matrixRun(rawInput: MatrixRunInput): Promise<MatrixRunResult> {
  const input = parseInput(MatrixRunInputSchema, rawInput);
  const { runId, targets } = input;
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: input.dryRun ? 'zts-plan' : 'zts-run' },
    { key: SEARCH_ATTRIBUTES.suite, value: suiteOf(input.request) },
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.flavor, value: targets.length === 1 ? targets[0]! : 'matrix' },
    { key: SEARCH_ATTRIBUTES.run, value: runId },
    ...(input.scheduleId ? [{ key: SEARCH_ATTRIBUTES.schedule, value: input.scheduleId }] : []),
  ]);
  const view: RunProgressView = {
    runId,
    targets: targets.map((target) => ({ target, workflowId: targetWorkflowId(runId, target) })),
    phase: 'running',
  };
  setHandler(runProgressQuery, () => view);

  if (!input.dryRun) {
    await resultsStore.openZtsRun({
      runId,
      workflowId: workflowInfo().workflowId,
      selection: describeRequest(input.request),
      target: targets.join(','),
      startedAt: new Date().toISOString(),
    });
  }
  const { targets: _all, ...common } = input;
  const settled = await Promise.allSettled(
    view.targets.map(({ target, workflowId }) => executeChild(targetRun, { workflowId, args: [{ ...common, target }] })),
  );
  const results = settled.map((s, i): TargetRunResult => (s.status === 'fulfilled' ? s.value : childFailed(input.hostId, targets[i]!, s.reason)));
  const cancelled = CancellationScope.current().consideredCancelled;
  const outcome = cancelled ? 'cancelled' : runOutcome(results.map((r) => r.outcome));
  view.phase = 'finishing';
  if (!input.dryRun) await CancellationScope.nonCancellable(() => resultsStore.closeZtsRun({ runId, outcome }));
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: outcome }]);
  view.phase = 'done';
  if (cancelled) {
    const reason = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && isCancellation(s.reason));
    if (reason) throw reason.reason;
  }
  return { runId, outcome, dryRun: input.dryRun, targets: results };
}

function childFailed(hostId: string, target: string, reason: unknown): TargetRunResult {
  return {
    target,
    flavorId: undefined,
    hostId,
    flavor: undefined,
    outcome: isCancellation(reason) ? 'cancelled' : 'infra-error',
    dryRun: false,
    plan: undefined,
    totals: { tests: 0, counts: emptyCounts(), unexpected: 0, infraErrors: [failureMessage(reason)] },
    artifactsPrefix: undefined,
    runfileSource: undefined,
    error: failureMessage(reason),
  };
}
