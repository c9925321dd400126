import type { SpeedClass } from './timeouts.js';
import type { FlavorMeta } from '../matrix/matrix.js';
import type { Classification, TestResult } from '../results/types.js';
import type { CostBasis } from '../shard/cost.js';
import type { ResultClass } from '../results/result-class.js';
import type { OutcomeCounts } from './chunk-results.js';
import type { ProbeKind } from '../probes/plan.js';
import type { ChunkFingerprint } from './fingerprint.js';

export type { ChunkFingerprint };
import type { RunOutcome } from './outcome.js';
import type { ChunkPlan, TargetPlan } from './plan.js';

/**
 * What the ZTS run activities hand each other through the workflows. Plain data (it is stored in
 * workflow history), small on purpose: runfiles and results travel through S3, keys through here.
 */

/** A target resolved on its host: its flavor facts and the selected runfile, from its own installed runfiles. */
export interface ResolvedTarget {
  target: string;
  flavorId: string;
  hostId: string;
  flavor: FlavorMeta;
  /** The selected runfile (one document; a custom runfile as given). */
  runfileText: string;
  /** `-i` for the runner on the target. */
  testDir: string;
  /** Where the runfiles came from (installed suite, unpacked Debian package …), for people. */
  runfileSource: string;
  selectedTests: number;
  /** How fast the target runs tests: the timeout rule's defaults (core/test-run/timeouts.ts). Absent: as fast as KVM. */
  speedClass?: SpeedClass | undefined;
  /** The runfile was cut from the suite's own (a selection), not given by the user: its timeouts may be replaced. */
  runfileGenerated?: boolean | undefined;
  /** The golden whose suite was resolved (and that the clones are made from); absent for native and for a flavor with no golden on the host. */
  golden?: string | undefined;
}

export interface PlannedShard {
  index: number;
  sections: string[];
  tests: number;
  cost: number;
  /** The shard runfile in S3 (absent on a dry run). */
  runfileKey: string | undefined;
  chunks: ChunkPlan[];
}

export interface PlannedTarget {
  basis: CostBasis;
  /** Which durations fed the plan, for people (`upstream CI 2023-03 (KVM) + 40 from our runs`). */
  historySource: string;
  shardCount: number;
  parallel: boolean;
  makespan: number;
  lowerBound: number;
  total: number;
  unknownTests: number;
  selectedTests: number;
  selectedSections: number;
  /** Estimated seconds for the target (shards in parallel, or in sequence on the native host). */
  planSeconds: number;
  perShardSeconds: number[];
  shards: PlannedShard[];
}

/** A plan as reported back (chunks reduced to counts: the full lists stay in the target workflow). */
export type PlanSummary = Omit<PlannedTarget, 'shards'> & { shards: (Omit<PlannedShard, 'chunks'> & { chunks: number })[] };

/** A target's plan as the workflow keeps it: the planner's figures, where the history came from, and each shard's runfile key. */
export function plannedTarget(
  plan: TargetPlan,
  options: { historySource: string; parallel: boolean; runfileKey: (shardIndex: number) => string | undefined },
): PlannedTarget {
  return {
    basis: plan.basis,
    historySource: options.historySource,
    shardCount: plan.shardCount,
    parallel: options.parallel,
    makespan: plan.makespan,
    lowerBound: plan.lowerBound,
    total: plan.total,
    unknownTests: plan.unknownTests,
    selectedTests: plan.selectedTests,
    selectedSections: plan.selectedSections,
    planSeconds: plan.eta.planSeconds,
    perShardSeconds: plan.eta.perShardSeconds,
    shards: plan.shards.map((s) => ({
      index: s.index,
      sections: s.sections,
      tests: s.tests,
      cost: s.cost,
      runfileKey: options.runfileKey(s.index),
      chunks: s.chunks,
    })),
  };
}

export function summarizePlan(plan: PlannedTarget): PlanSummary {
  return { ...plan, shards: plan.shards.map((s) => ({ ...s, chunks: s.chunks.length })) };
}

export interface ChunkActivityInput {
  runId: string;
  target: string;
  flavorId: string;
  shard: number;
  chunk: number;
  runfileKey: string;
  testIds: string[];
  testDir: string;
  /** Capture a workload fingerprint of the runner's process tree and compare it with the flavor's baseline. */
  fingerprint?: { workload: string };
  /** In-guest probes to run beside the runner (`--probes`); none when absent. */
  probes?: ProbeKind[];
  /** The chunk's attempt over every host it ran on (the workflow retries it; Temporal's own attempt is always 1). */
  attempt?: number;
  /** What earlier attempts finished, when they ran on another host (its heartbeat checkpoint): resume after it. */
  resume?: TestResult[];
}

export interface ChunkActivityResult {
  resultsKey: string;
  /** Final outcome per test of the chunk. */
  counts: OutcomeCounts;
  testsLeft: number;
  /** Runner-reported seconds of every script (earlier attempts included): the measured speed. */
  runnerSeconds: number;
  attempt: number;
  infraError?: string;
  fingerprint?: ChunkFingerprint;
}

export interface RecordedChunk {
  tests: number;
  counts: OutcomeCounts;
  unexpected: number;
  byClassification: Record<Classification, number>;
  /** False when the chunk left no results file (it never started, or its host died before writing one). */
  found: boolean;
}

export interface TargetTotals {
  tests: number;
  counts: OutcomeCounts;
  /** Results the verdict counts against the target: regressions and crashes (not flaky or known ones). */
  unexpected: number;
  infraErrors: string[];
  /** Non-passing results by class (core/results/result-class.ts); absent on results from before classes. */
  classes?: Record<ResultClass, number>;
}

export interface TargetRunResult {
  target: string;
  flavorId: string | undefined;
  hostId: string;
  flavor: FlavorMeta | undefined;
  outcome: RunOutcome;
  dryRun: boolean;
  plan: PlanSummary | undefined;
  totals: TargetTotals;
  /** `runs/<runId>/<flavor>` */
  artifactsPrefix: string | undefined;
  runfileSource: string | undefined;
  /** Set when the target could not be resolved or planned at all. */
  error?: string;
  /** With `--fingerprint`: one per chunk that ran. */
  fingerprints?: ChunkFingerprint[];
  /** Chunks that moved to another host because theirs was lost. */
  hostMoves?: HostMove[];
}

export interface HostMove {
  from: string;
  to: string;
  shard: number;
  chunk: number;
  why: string;
  /** Tests the chunk had finished on the lost host, which the new host did not run again. */
  resumedAfter: number;
}

export interface MatrixRunResult {
  runId: string;
  outcome: RunOutcome;
  dryRun: boolean;
  targets: TargetRunResult[];
  /** Flavors `all` left out (no host could run them), with why. */
  skipped?: { flavorId: string; reason: string }[];
}
