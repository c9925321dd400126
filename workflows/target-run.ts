import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { TestRunActivities } from '../activities/test-runs/index.js';
import type { ZtsHostActivities } from '../activities/zts/index.js';
import type { HealthEvent } from '../core/host/health.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { checkpoint, closeSlot, complete, hasWorkFor, newDispatch, nextFor, remainingCost as itemCostLeft, slotLost } from '../core/dispatch/dispatcher.js';
import type { DispatchState } from '../core/dispatch/dispatcher.js';
import { chunkItems, chunkOfItem, dispatchSlots } from '../core/test-run/dynamic-dispatch.js';
import { parseHeartbeat } from '../core/test-run/checkpoint.js';
import { addCounts, emptyCounts } from '../core/test-run/chunk-results.js';
import { nextChunkStep, nextHost } from '../core/test-run/host-loss.js';
import type { OutcomeCounts } from '../core/test-run/chunk-results.js';
import { TargetRunInputSchema, suiteOf } from '../core/test-run/input.js';
import type { TargetRunInput, TargetRunSpec } from '../core/test-run/input.js';
import { runKeys } from '../core/test-run/keys.js';
import { targetOutcome } from '../core/test-run/outcome.js';
import { TARGET_PROGRESS_QUERY, etaSeconds } from '../core/test-run/progress.js';
import type { TargetProgress } from '../core/test-run/progress.js';
import { summarizePlan } from '../core/test-run/types.js';
import type { ResultClass } from '../core/results/result-class.js';
import type { TestResult } from '../core/results/types.js';
import type {
  ChunkActivityInput,
  ChunkActivityResult,
  ChunkFingerprint,
  HostMove,
  PlannedShard,
  PlannedTarget,
  ResolvedTarget,
  TargetRunResult,
} from '../core/test-run/types.js';
import { chunkFailureFacts, failureMessage, failureType, lastHeartbeatOf, parseInput } from './failures.js';
import { proxyHostActivities } from './host-activities.js';

export const targetProgressQuery = defineQuery<TargetProgress>(TARGET_PROGRESS_QUERY);

/** What a continued execution carries over: the plan (with its chunks) and how far each shard got. */
export interface TargetRunState {
  resolved: Omit<ResolvedTarget, 'runfileText'>;
  plan: PlannedTarget;
  /** Shard index → the next chunk to run. */
  next: Record<number, number>;
  doneTests: number;
  counts: OutcomeCounts;
  unexpected: number;
  infraErrors: string[];
  measuredSeconds: number;
  measuredCost: number;
  chunksDone: number;
  execution: number;
  /** `--fingerprint`: one report per chunk run so far. */
  fingerprints?: ChunkFingerprint[];
  /** The host the chunks run on now (the placed one until it is lost), and the hosts lost so far. */
  hostId?: string;
  lostHosts?: string[];
  hostMoves?: HostMove[];
  /** Re-run rounds finished, per shard. */
  rerunRounds?: Record<number, number>;
  /** `--dispatch dynamic`: the queue and the slots (core/dispatch/dispatcher.ts). */
  dispatch?: DispatchState;
  /** Per handed-back chunk item: the results its lost holder had finished (what the next holder resumes after), and where it came from. */
  handedBack?: Record<string, { resume: TestResult[]; from: string; why: string }>;
  /** Per chunk item: attempts so far, over every holder. */
  itemAttempts?: Record<string, number>;
}

/** Two chunks in a row failing for good on one shard means the target itself is broken: stop that shard. */
const MAX_CONSECUTIVE_CHUNK_FAILURES = 2;

/**
 * One target of a run (`native` or a flavor): resolve the selection on the target's host against its
 * own runfiles, plan shards and chunks, then per shard a loop of chunk activities on the host's queue,
 * each chunk's results recorded by the coordinator. Chunk activities resume from their heartbeat
 * checkpoint on retry. History stays bounded: after `maxChunksPerExecution` chunks the workflow
 * continues as new with the plan and the shards' positions.
 */
export async function targetRun(rawInput: TargetRunInput, carried?: TargetRunState): Promise<TargetRunResult> {
  const input = parseInput(TargetRunInputSchema, rawInput);
  const host = proxyHostActivities<ZtsHostActivities>(input, {
    // Resolving may fetch the target's zfs-test package from the Debian mirror once.
    startToCloseTimeout: '20m',
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes: ['UsageError'] },
  });
  // One attempt per activity: the workflow retries a chunk itself (core/test-run/host-loss.ts), so that a
  // chunk whose host is lost moves to a standby host instead of waiting in the lost host's queue.
  const chunksOn = (hostId: string) =>
    proxyHostActivities<ZtsHostActivities>(
      { hostId, hostWaitSeconds: input.hostWaitSeconds },
      {
        startToCloseTimeout: '24h',
        heartbeatTimeout: `${input.heartbeatTimeoutSeconds}s`,
        retry: { maximumAttempts: 1 },
        // Wait for the activity to stop the runner and upload its partial results before recording them.
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      },
    );
  const registry = proxyActivities<CoordinatorActivities>({ startToCloseTimeout: '1m', retry: { initialInterval: '1s', maximumAttempts: 3 } });
  // The run's plan and results, filed on the coordinator's queue (store and S3).
  const coordinator = proxyActivities<TestRunActivities>({ startToCloseTimeout: '10m', retry: { initialInterval: '1s', maximumInterval: '30s' } });

  const progress: TargetProgress = {
    target: input.target,
    flavorId: carried?.resolved.flavorId,
    hostId: input.hostId,
    phase: carried ? 'running' : 'resolving',
    openzfsVersion: carried?.resolved.flavor.openzfsVersion,
    totalTests: carried?.plan.selectedTests ?? 0,
    doneTests: carried?.doneTests ?? 0,
    counts: carried?.counts ?? emptyCounts(),
    unexpected: carried?.unexpected ?? 0,
    infraErrors: carried?.infraErrors ?? [],
    chunks: { total: carried ? chunkCount(carried.plan) : 0, done: carried?.chunksDone ?? 0 },
    running: [],
    plannedSeconds: carried?.plan.planSeconds,
    etaSeconds: undefined,
    execution: carried?.execution ?? 1,
  };
  let state: TargetRunState | undefined = carried;
  setHandler(targetProgressQuery, () => ({ ...progress, etaSeconds: state ? remainingEta(state) : undefined }));
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'zts-target' },
    { key: SEARCH_ATTRIBUTES.flavor, value: input.target },
    { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
    { key: SEARCH_ATTRIBUTES.suite, value: suiteOf(input.request) },
    { key: SEARCH_ATTRIBUTES.run, value: input.runId },
    ...(input.scheduleId ? [{ key: SEARCH_ATTRIBUTES.schedule, value: input.scheduleId }] : []),
  ]);

  if (!state) {
    let resolved: ResolvedTarget;
    let plan: PlannedTarget;
    try {
      resolved = await host.resolveZtsTarget({ target: input.target, hostId: input.hostId, request: input.request });
      progress.flavorId = resolved.flavorId;
      progress.openzfsVersion = resolved.flavor.openzfsVersion;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.openzfsVersion, value: resolved.flavor.openzfsVersion }]);
      progress.phase = 'planning';
      plan = await coordinator.planZtsTarget({ runId: input.runId, resolved, shards: input.shards, chunkSize: input.chunkSize, dryRun: input.dryRun });
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.phase = 'failed';
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: failureType(err) === 'UsageError' ? 'usage-error' : 'infra-error' }]);
      return unresolved(input, err);
    }
    // The runfile text went into the plan (shard runfiles in S3); keep the rest of the history small.
    const kept: TargetRunState['resolved'] = {
      target: resolved.target,
      flavorId: resolved.flavorId,
      hostId: resolved.hostId,
      flavor: resolved.flavor,
      testDir: resolved.testDir,
      runfileSource: resolved.runfileSource,
      selectedTests: resolved.selectedTests,
    };
    state = {
      resolved: kept,
      plan,
      next: {},
      doneTests: 0,
      counts: emptyCounts(),
      unexpected: 0,
      infraErrors: [],
      measuredSeconds: 0,
      measuredCost: 0,
      chunksDone: 0,
      execution: 1,
    };
    progress.totalTests = plan.selectedTests;
    progress.chunks.total = chunkCount(plan);
    progress.plannedSeconds = plan.planSeconds;
    if (input.dryRun) {
      progress.phase = 'done';
      return result(input, state, 'passed', undefined);
    }
  }

  progress.phase = 'running';
  const current = state;
  let budget = input.maxChunksPerExecution;
  // A host that stopped taking tasks (`HostUnavailable`) stops every shard, not only the one that saw it.
  let hostGone = false;
  /**
   * One chunk to its end, over as many attempts and hosts as it takes: retried where it ran after a
   * backoff; moved to the next standby host (policy `replace`) when its host is lost, resuming after
   * the tests its heartbeat said were finished; the lost host is reported `unknown`.
   */
  const runChunk = async (chunk: ChunkActivityInput): Promise<ChunkActivityResult> => {
    let resume: TestResult[] | undefined;
    for (let attempt = 1; ; attempt++) {
      const hostId = current.hostId ?? input.hostId;
      try {
        return await chunksOn(hostId).runZtsChunk({ ...chunk, attempt, ...(resume ? { resume } : {}) });
      } catch (err) {
        if (isCancellation(err)) throw err;
        resume = parseHeartbeat(lastHeartbeatOf(err))?.finished ?? resume;
        const lost = current.lostHosts ?? [];
        const to = input.onHostLoss === 'replace' ? nextHost(input.standbyHosts, [...lost, hostId]) : undefined;
        const step = nextChunkStep(chunkFailureFacts(err), { attempt, canMove: to !== undefined });
        if (step.kind === 'stop') throw err;
        if (step.kind === 'retry') {
          await sleep(`${step.delaySeconds}s`);
          continue;
        }
        current.lostHosts = [...lost, hostId];
        current.hostId = to;
        progress.hostId = to!;
        const move: HostMove = {
          from: hostId,
          to: to!,
          shard: chunk.shard,
          chunk: chunk.chunk,
          why: step.why,
          resumedAfter: (resume ?? []).filter((r) => r.kind === 'test').length,
        };
        (current.hostMoves ??= []).push(move);
        await reportLost(registry, hostId, `${step.why} (run ${input.runId}, ${input.target}); its chunks moved to ${to}`);
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.host, value: [input.hostId, ...current.lostHosts.slice(1), to!].join(',') }]);
      }
    }
  };
  const recordChunk = (shard: PlannedShard, chunkIndex: number) =>
    coordinator.recordZtsChunk({
      runId: input.runId,
      flavorId: current.resolved.flavorId,
      shard: shard.index,
      resultsKey: runKeys.chunkResults(input.runId, current.resolved.flavorId, shard.index, chunkIndex),
      baselineVersion: input.baselineVersion ?? current.resolved.flavor.openzfsVersion,
    });
  const chunkInput = (shard: PlannedShard, chunk: PlannedShard['chunks'][number]): ChunkActivityInput => {
    const fingerprint = input.fingerprint ? { workload: chunkWorkload(input.fingerprint.workload, current.plan, shard.index, chunk.index) } : undefined;
    return {
      runId: input.runId,
      target: input.target,
      flavorId: current.resolved.flavorId,
      shard: shard.index,
      chunk: chunk.index,
      runfileKey: shard.runfileKey!,
      testIds: chunk.testIds,
      testDir: current.resolved.testDir,
      ...(fingerprint ? { fingerprint } : {}),
      ...(input.probes && input.probes.length > 0 ? { probes: input.probes } : {}),
    };
  };
  const lostHost = (hostId: string): boolean => (current.lostHosts ?? []).includes(hostId);
  /**
   * `--dispatch dynamic`: one loop per slot of the dispatch hosts, each taking the longest chunk left
   * as it frees up. A slot whose host is lost hands its chunk back with the results its heartbeat
   * reported, and the next slot to take it resumes after them on its own host; the lost host goes
   * `unknown` and takes no more work. Chunks no slot is left to run are reported as not run.
   */
  const runDynamic = async (): Promise<'done' | 'paused'> => {
    current.dispatch ??= newDispatch(
      chunkItems(input.target, current.plan.shards),
      dispatchSlots(input.target, input.dispatchHosts, { hostId: input.hostId, shards: current.plan.shards.length }, current.plan.parallel),
    );
    const slots = current.dispatch.slots.filter((slot) => slot.state === 'idle');
    const settled = await Promise.allSettled(slots.map((slot) => runSlot(slot.slotId, slot.hostId)));
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    if (settled.some((r) => r.status === 'fulfilled' && r.value === 'paused')) return 'paused';
    const left = current.dispatch.queue;
    if (left.length > 0) {
      current.infraErrors.push(`${left.length} chunk(s) not run: no slot left that could run them (${left.map((q) => q.item.id).join(', ')})`);
      current.dispatch = { ...current.dispatch, queue: [] };
    }
    // Re-runs go to a host still there.
    current.hostId = [input.hostId, ...input.dispatchHosts.map((h) => h.hostId)].find((h) => !lostHost(h)) ?? current.hostId;
    return 'done';
  };
  const runSlot = async (slotId: string, hostId: string): Promise<'done' | 'paused' | 'lost'> => {
    let failuresInARow = 0;
    for (;;) {
      if (lostHost(hostId)) {
        current.dispatch = slotLost(current.dispatch!, slotId).state;
        return 'lost';
      }
      if (budget <= 0 || workflowInfo().continueAsNewSuggested) return 'paused';
      // Nothing queued now, but a busy slot may still hand its chunk back: wait for that or for the end.
      await condition(() => hasWorkFor(current.dispatch!, slotId) || !current.dispatch!.slots.some((s) => s.state === 'busy'));
      const next = nextFor(current.dispatch!, slotId, Date.now());
      current.dispatch = next.state;
      if (next.decision.kind === 'close') return 'done';
      budget--;
      const { assignment } = next.decision;
      const itemId = assignment.item.id;
      const ref = chunkOfItem(itemId);
      const shard = current.plan.shards.find((s) => s.index === ref.shard)!;
      const chunk = shard.chunks.find((c) => c.index === ref.chunk)!;
      const back = current.handedBack?.[itemId];
      let resume = back?.resume;
      if (back) {
        (current.hostMoves ??= []).push({
          from: back.from,
          to: hostId,
          shard: shard.index,
          chunk: chunk.index,
          why: back.why,
          resumedAfter: back.resume.filter((r) => r.kind === 'test').length,
        });
        delete current.handedBack![itemId];
      }
      const running = { shard: shard.index, chunk: chunk.index, tests: chunk.testIds.length };
      progress.running.push(running);
      let failure: unknown;
      let wallSeconds: number | undefined;
      const startedAt = Date.now();
      try {
        for (let attempt = 1; ; attempt++) {
          const attempts = ((current.itemAttempts ??= {})[itemId] ?? 0) + 1;
          current.itemAttempts[itemId] = attempts;
          try {
            const out = await chunksOn(hostId).runZtsChunk({ ...chunkInput(shard, chunk), attempt: attempts, ...(resume ? { resume } : {}) });
            if (out.fingerprint) (current.fingerprints ??= []).push(out.fingerprint);
            if (out.testsLeft === 0) wallSeconds = (Date.now() - startedAt) / 1000;
            break;
          } catch (err) {
            if (isCancellation(err)) {
              await CancellationScope.nonCancellable(async () => account(current, progress, await recordChunk(shard, chunk.index), undefined, chunk.cost));
              throw err;
            }
            resume = parseHeartbeat(lastHeartbeatOf(err))?.finished ?? resume;
            const others = current.dispatch!.slots.some((s) => s.hostId !== hostId && !lostHost(s.hostId) && s.state !== 'lost');
            const step = nextChunkStep(chunkFailureFacts(err), { attempt, canMove: input.onHostLoss === 'replace' && others });
            if (step.kind === 'retry') {
              await sleep(`${step.delaySeconds}s`);
              continue;
            }
            if (step.kind === 'move') {
              (current.handedBack ??= {})[itemId] = { resume: resume ?? [], from: hostId, why: step.why };
              current.dispatch = checkpoint(
                current.dispatch!,
                slotId,
                itemId,
                (resume ?? []).map((r) => r.testId),
              );
              current.dispatch = slotLost(current.dispatch, slotId).state;
              if (!lostHost(hostId)) {
                current.lostHosts = [...(current.lostHosts ?? []), hostId];
                await reportLost(registry, hostId, `${step.why} (run ${input.runId}, ${input.target}); its chunks went back to the queue`);
              }
              return 'lost';
            }
            failure = err;
            break;
          }
        }
      } finally {
        progress.running = progress.running.filter((r) => r !== running);
      }
      const done = complete(current.dispatch!, slotId, itemId);
      current.dispatch = done.state;
      // Not ours any more (handed back while it ran): its result is the next holder's to record.
      if (!done.accepted) return 'lost';
      account(current, progress, await recordChunk(shard, chunk.index), wallSeconds, chunk.cost);
      current.chunksDone++;
      progress.chunks.done = current.chunksDone;
      if (failure === undefined) {
        failuresInARow = 0;
        continue;
      }
      current.infraErrors.push(`shard ${shard.index} chunk ${chunk.index} on ${hostId}: ${failureMessage(failure)}`);
      failuresInARow++;
      if (failureType(failure) === 'TargetUnavailable' || failureType(failure) === 'HostUnavailable' || failuresInARow >= MAX_CONSECUTIVE_CHUNK_FAILURES) {
        current.dispatch = closeSlot(current.dispatch!, slotId);
        return 'done';
      }
    }
  };
  const runShard = async (shard: PlannedShard): Promise<'done' | 'paused'> => {
    let failuresInARow = 0;
    while ((current.next[shard.index] ?? 0) < shard.chunks.length) {
      if (hostGone) {
        stopShard(current, shard);
        break;
      }
      if (budget <= 0 || workflowInfo().continueAsNewSuggested) return 'paused';
      budget--;
      const chunk = shard.chunks[current.next[shard.index] ?? 0]!;
      const running = { shard: shard.index, chunk: chunk.index, tests: chunk.testIds.length };
      progress.running.push(running);
      const record = () => recordChunk(shard, chunk.index);
      let failure: unknown;
      let wallSeconds: number | undefined;
      // Workflow time (deterministic): the chunk's wall time, retries included, is the real speed.
      const startedAt = Date.now();
      try {
        const out = await runChunk(chunkInput(shard, chunk));
        if (out.fingerprint) (current.fingerprints ??= []).push(out.fingerprint);
        if (out.testsLeft === 0) wallSeconds = (Date.now() - startedAt) / 1000;
      } catch (err) {
        if (isCancellation(err)) {
          // The activity stopped the runner and uploaded what finished: keep it.
          await CancellationScope.nonCancellable(async () => account(current, progress, await record(), undefined, chunk.cost));
          throw err;
        }
        failure = err;
      } finally {
        progress.running = progress.running.filter((r) => r !== running);
      }
      account(current, progress, await record(), wallSeconds, chunk.cost);
      current.next[shard.index] = (current.next[shard.index] ?? 0) + 1;
      current.chunksDone++;
      progress.chunks.done = current.chunksDone;
      if (failure === undefined) {
        failuresInARow = 0;
        continue;
      }
      current.infraErrors.push(`shard ${shard.index} chunk ${chunk.index}: ${failureMessage(failure)}`);
      failuresInARow++;
      if (failureType(failure) === 'HostUnavailable') hostGone = true;
      const fatal = hostGone || failureType(failure) === 'TargetUnavailable' || failuresInARow >= MAX_CONSECUTIVE_CHUNK_FAILURES;
      if (fatal) stopShard(current, shard);
    }
    if (!hostGone) await rerunShard(shard);
    return 'done';
  };
  /**
   * Each unexpected FAIL/KILLED test of the shard runs again (`reruns` rounds), as one more chunk in a
   * fresh clone: passing once makes it `flaky`, failing every time a `regression`. Crashes never re-run.
   */
  const rerunShard = async (shard: PlannedShard): Promise<void> => {
    const lastPlanned = shard.chunks.reduce((n, c) => Math.max(n, c.index), 0);
    for (let round = (current.rerunRounds?.[shard.index] ?? 0) + 1; round <= input.reruns; round++) {
      const flavorId = current.resolved.flavorId;
      const testIds = await coordinator.ztsRerunCandidates({ runId: input.runId, flavorId, shard: shard.index, round });
      if (testIds.length === 0) break;
      const chunk = lastPlanned + round;
      const running = { shard: shard.index, chunk, tests: testIds.length };
      progress.running.push(running);
      try {
        await runChunk({
          runId: input.runId,
          target: input.target,
          flavorId,
          shard: shard.index,
          chunk,
          runfileKey: shard.runfileKey!,
          testIds,
          testDir: current.resolved.testDir,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        // The tests stay regressions; the target says its re-run could not finish.
        current.infraErrors.push(`shard ${shard.index} re-run ${round}: ${failureMessage(err)}`);
      } finally {
        progress.running = progress.running.filter((r) => r !== running);
      }
      await coordinator.recordZtsRerun({ runId: input.runId, flavorId, resultsKey: runKeys.chunkResults(input.runId, flavorId, shard.index, chunk), testIds });
      (current.rerunRounds ??= {})[shard.index] = round;
    }
  };

  let paused = false;
  try {
    if (input.dispatch === 'dynamic') {
      paused = (await runDynamic()) === 'paused';
      if (!paused) for (const shard of current.plan.shards) await rerunShard(shard);
    } else if (current.plan.parallel) {
      // allSettled: on a cancel, every shard records its own partial chunk before the target closes.
      const settled = await Promise.allSettled(current.plan.shards.map(runShard));
      const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (rejected) throw rejected.reason;
      paused = settled.some((s) => s.status === 'fulfilled' && s.value === 'paused');
    } else {
      for (const shard of current.plan.shards) if ((await runShard(shard)) === 'paused') paused = true;
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    progress.phase = 'cancelled';
    await CancellationScope.nonCancellable(async () => {
      await finish(input, current, coordinator);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: 'cancelled' }]);
    });
    throw err;
  }
  if (paused) {
    await continueAsNew<typeof targetRun>(rawInput, { ...current, execution: current.execution + 1 });
  }

  progress.phase = 'finishing';
  const totals = await finish(input, current, coordinator);
  const outcome = targetOutcome({ tests: totals.tests, unexpected: totals.unexpected, infraErrors: current.infraErrors, cancelled: false });
  // Each host that brought the target to a verdict did a job: the health cadence (`health.everyJobs`) counts these.
  if (outcome !== 'infra-error') {
    const worked = new Set([current.hostId ?? input.hostId, ...(current.dispatch?.slots.map((s) => s.hostId) ?? [])]);
    for (const hostId of worked) if (!lostHost(hostId)) await reportHealth(registry, hostId, { kind: 'job-done', at: new Date().toISOString() });
  }
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: outcome }]);
  progress.phase = 'done';
  return result(input, current, outcome, totals);
}

/** Marks a shard's remaining chunks as not run, saying so among the target's infrastructure errors. */
function stopShard(state: TargetRunState, shard: PlannedShard): void {
  const next = state.next[shard.index] ?? 0;
  if (next >= shard.chunks.length) return;
  state.infraErrors.push(`shard ${shard.index}: stopped, ${shard.chunks.length - next} chunk(s) not run`);
  state.next[shard.index] = shard.chunks.length;
}

function account(
  state: TargetRunState,
  progress: TargetProgress,
  recorded: { tests: number; counts: OutcomeCounts; unexpected: number },
  wallSeconds: number | undefined,
  cost: number,
): void {
  state.doneTests += recorded.tests;
  state.counts = addCounts(state.counts, recorded.counts);
  state.unexpected += recorded.unexpected;
  if (wallSeconds !== undefined) {
    state.measuredSeconds += wallSeconds;
    state.measuredCost += cost;
  }
  progress.doneTests = state.doneTests;
  progress.counts = state.counts;
  progress.unexpected = state.unexpected;
  progress.infraErrors = state.infraErrors;
}

async function finish(input: TargetRunSpec, state: TargetRunState, coordinator: TestRunActivities) {
  const totals = await coordinator.finishZtsTarget({
    runId: input.runId,
    flavorId: state.resolved.flavorId,
    shards: state.plan.shards.map((s) => s.index),
    baselineVersion: input.baselineVersion ?? state.resolved.flavor.openzfsVersion,
  });
  state.doneTests = totals.tests;
  state.counts = totals.counts;
  state.unexpected = totals.unexpected;
  return totals;
}

function remainingEta(state: TargetRunState): number {
  if (state.dispatch) {
    const open = state.dispatch.slots.filter((s) => s.state === 'idle' || s.state === 'busy');
    const left = [...state.dispatch.queue, ...open.flatMap((s) => (s.current ? [s.current] : []))];
    return etaSeconds({
      remainingCost: left.reduce((n, q) => n + itemCostLeft(q), 0),
      measuredSeconds: state.measuredSeconds,
      measuredCost: state.measuredCost,
      basis: state.plan.basis,
      parallelism: Math.max(1, open.length),
    });
  }
  let remainingCost = 0;
  let shardsLeft = 0;
  for (const shard of state.plan.shards) {
    const left = shard.chunks.slice(state.next[shard.index] ?? 0);
    if (left.length > 0) shardsLeft++;
    remainingCost += left.reduce((n, c) => n + c.cost, 0);
  }
  return etaSeconds({
    remainingCost,
    measuredSeconds: state.measuredSeconds,
    measuredCost: state.measuredCost,
    basis: state.plan.basis,
    parallelism: state.plan.parallel ? shardsLeft : 1,
  });
}

/**
 * The baseline name of a chunk's fingerprint: the run's workload name when the target runs as one chunk,
 * else suffixed with the chunk's place (a different set of tests is a different workload).
 */
function chunkWorkload(workload: string, plan: PlannedTarget, shard: number, chunk: number): string {
  return chunkCount(plan) === 1 ? workload : `${workload}.s${shard}c${chunk}`;
}

function chunkCount(plan: PlannedTarget): number {
  return plan.shards.reduce((n, s) => n + s.chunks.length, 0);
}

function result(
  input: TargetRunSpec,
  state: TargetRunState,
  outcome: TargetRunResult['outcome'],
  totals: { tests: number; counts: OutcomeCounts; unexpected: number; classes?: Record<ResultClass, number> } | undefined,
): TargetRunResult {
  return {
    target: input.target,
    flavorId: state.resolved.flavorId,
    hostId: input.hostId,
    flavor: state.resolved.flavor,
    outcome,
    dryRun: input.dryRun,
    plan: summarizePlan(state.plan),
    totals: {
      tests: totals?.tests ?? 0,
      counts: totals?.counts ?? emptyCounts(),
      unexpected: totals?.unexpected ?? 0,
      infraErrors: state.infraErrors,
      ...(totals?.classes ? { classes: totals.classes } : {}),
    },
    artifactsPrefix: `${runKeys.runPrefix(input.runId)}/${state.resolved.flavorId}`,
    runfileSource: state.resolved.runfileSource,
    ...(state.fingerprints ? { fingerprints: state.fingerprints } : {}),
    ...(state.hostMoves ? { hostMoves: state.hostMoves } : {}),
  };
}

/** A lost host goes `unknown` (health-checked before new work). */
function reportLost(registry: CoordinatorActivities, hostId: string, why: string): Promise<void> {
  return reportHealth(registry, hostId, { kind: 'infra-failure', at: new Date().toISOString(), why: why.slice(0, 500) });
}

/**
 * A health event for a host's registry entry (a loss, a job done for the every-N-jobs cadence). Best
 * effort: the run never waits on the registry, and a host it does not know (never probed) counts nothing.
 */
async function reportHealth(registry: CoordinatorActivities, hostId: string, event: HealthEvent): Promise<void> {
  try {
    await registry.applyHostHealth({ hostId, event });
  } catch {
    // The registry is not the run's business.
  }
}

function unresolved(input: TargetRunSpec, err: unknown): TargetRunResult {
  const message = failureMessage(err);
  return {
    target: input.target,
    flavorId: undefined,
    hostId: input.hostId,
    flavor: undefined,
    outcome: 'infra-error',
    dryRun: input.dryRun,
    plan: undefined,
    totals: { tests: 0, counts: emptyCounts(), unexpected: 0, infraErrors: [message] },
    artifactsPrefix: undefined,
    runfileSource: undefined,
    error: failureType(err) === 'UsageError' ? `usage: ${message}` : message,
  };
}
