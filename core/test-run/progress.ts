import type { CostBasis } from '../shard/cost.js';
import type { OutcomeCounts } from './chunk-results.js';

/** Query names, shared by the workflows (defineQuery) and the CLI (handle.query). */
export const RUN_PROGRESS_QUERY = 'ztsRunProgress';
export const TARGET_PROGRESS_QUERY = 'ztsTargetProgress';

export type TargetPhase = 'resolving' | 'planning' | 'running' | 'finishing' | 'done' | 'cancelled' | 'failed';

/** What the per-target workflow knows at chunk granularity; the CLI adds the running chunk's heartbeat. */
export interface TargetProgress {
  target: string;
  /** Known once resolved (`native-<host>` for the native target). */
  flavorId: string | undefined;
  hostId: string;
  phase: TargetPhase;
  openzfsVersion: string | undefined;
  totalTests: number;
  /** Tests with a final result in chunks already recorded. */
  doneTests: number;
  counts: OutcomeCounts;
  unexpected: number;
  infraErrors: string[];
  chunks: { total: number; done: number };
  /** Chunks running now (the CLI reads their heartbeats for the current test). */
  running: { shard: number; chunk: number; tests: number }[];
  /** The plan's estimate for the whole target, seconds. */
  plannedSeconds: number | undefined;
  /** Remaining seconds, from the planned cost left and the speed measured so far. */
  etaSeconds: number | undefined;
  /** 1 + the number of times the workflow continued as new. */
  execution: number;
}

export interface RunProgressView {
  runId: string;
  targets: { target: string; workflowId: string }[];
  phase: 'running' | 'finishing' | 'done';
}

/**
 * Seconds left for what the plan still has to do. The rate is measured (seconds the runner took per
 * unit of planned cost) once a chunk finished, else the plan's own (history: 1 s per second of
 * history; test counts: a minute per test, what one ZTS test takes in a TCG clone). Shards in parallel
 * share the time.
 */
export function etaSeconds(input: { remainingCost: number; measuredSeconds: number; measuredCost: number; basis: CostBasis; parallelism: number }): number {
  const rate = input.measuredCost > 0 ? input.measuredSeconds / input.measuredCost : input.basis === 'history' ? 1 : 60;
  return (input.remainingCost * rate) / Math.max(1, input.parallelism);
}
