import type { RunfileDocument } from '../../core/runfile/document.js';
import { parseRunfile } from '../../core/runfile/parse.js';
import { NATIVE_TARGET } from '../../core/test-run/input.js';
import { runKeys } from '../../core/test-run/keys.js';
import { planTarget } from '../../core/test-run/plan.js';
import { plannedTarget, type PlannedTarget, type ResolvedTarget } from '../../core/test-run/types.js';
import { applyTimeouts, DEFAULT_TIMEOUT_POLICY } from '../../core/test-run/timeouts.js';
import type { TimeoutBasis } from '../../core/test-run/timeouts.js';
import type { Logger } from '../../lib/log.js';
import type { ArtifactStore } from '../../lib/s3.js';
import type { ResultsStore } from '../../lib/store/store.js';
import { HostRegistry } from '../../lib/store/host-registry.js';
import { planningHistory, shippedHistory, storedSamples } from './durations.js';

function countBases(bases: readonly TimeoutBasis[]): Record<TimeoutBasis, number> {
  const counts: Record<TimeoutBasis, number> = { own: 0, reference: 0, runfile: 0 };
  for (const basis of bases) counts[basis] += 1;
  return counts;
}

export interface PlanTargetInput {
  runId: string;
  resolved: ResolvedTarget;
  shards: number;
  chunkSize: number;
  dryRun: boolean;
}

/**
 * Plans one target (shards balanced by history, chunks) and, unless it is a dry run, files the plan:
 * each shard's runfile in S3 (the hosts read their chunks from there), the flavor, the host and what
 * the flavor ran on in the store. The native host runs its shards one after the other: two runners on
 * one host would share its pools and disks.
 */
export async function planAndFileTarget(
  input: PlanTargetInput,
  deps: { store: ResultsStore | undefined; artifacts: ArtifactStore | undefined; now: () => Date; log?: Logger },
): Promise<PlannedTarget> {
  const { resolved } = input;
  const { history, source } = await planningHistory(deps.store, resolved.flavorId);
  const parallel = resolved.target !== NATIVE_TARGET;
  const selected = parseRunfile(resolved.runfileText, `${resolved.flavorId}.run`);
  // A runfile the user wrote keeps the timeouts the user chose.
  const runfile = resolved.runfileGenerated ? await withHostTimeouts(selected, resolved, deps) : selected;
  const plan = planTarget(runfile, history, {
    shardCount: input.shards,
    chunkSize: input.chunkSize,
    parallel,
  });
  const runfileKeys = new Map<number, string>();
  if (!input.dryRun && deps.artifacts) {
    for (const shard of plan.shards) {
      const key = runKeys.shardRunfile(input.runId, resolved.flavorId, shard.index);
      await deps.artifacts.putBytes(key, shard.runfileText);
      runfileKeys.set(shard.index, key);
    }
  }
  if (!input.dryRun && deps.store) await fileTarget(deps.store, input, plan.shards.length, deps.now());
  return plannedTarget(plan, { historySource: source, parallel, runfileKey: (index) => runfileKeys.get(index) });
}

async function withHostTimeouts(
  doc: RunfileDocument,
  resolved: ResolvedTarget,
  deps: { store: ResultsStore | undefined; log?: Logger },
): Promise<RunfileDocument> {
  const speedClass = resolved.speedClass ?? 'kvm';
  const own = deps.store ? await storedSamples(deps.store, resolved.flavorId) : {};
  const timed = applyTimeouts(doc, { own, reference: shippedHistory() }, DEFAULT_TIMEOUT_POLICY[speedClass]);
  deps.log?.info({ flavorId: resolved.flavorId, speedClass, bases: countBases(timed.tests.map((t) => t.basis)) }, 'per-test timeouts written into the runfile');
  return timed.doc;
}

async function fileTarget(store: ResultsStore, input: PlanTargetInput, shardCount: number, now: Date): Promise<void> {
  const { resolved } = input;
  // A host's row is the registry's (a probe fills it); a run only makes sure the row exists.
  await new HostRegistry(store.db).ensure(resolved.hostId, now.toISOString());
  await store.upsertFlavor(
    {
      id: resolved.flavorId,
      os: resolved.flavor.os,
      release: resolved.flavor.release,
      kernel: resolved.flavor.kernel,
      openzfsVersion: resolved.flavor.openzfsVersion,
    },
    now.toISOString(),
  );
  await store.recordRunFlavor({
    runId: input.runId,
    flavorId: resolved.flavorId,
    hostId: resolved.hostId,
    kernel: resolved.flavor.kernel,
    openzfsVersion: resolved.flavor.openzfsVersion,
    shardCount: Math.max(1, shardCount),
    ...(resolved.golden ? { golden: resolved.golden } : {}),
  });
}
