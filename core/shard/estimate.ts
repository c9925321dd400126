import type { DurationHistory } from './durations.js';
import type { ShardPlan } from './balance.js';

/**
 * How long a planned run will take on our lab, for `--dry-run` and live ETAs. History comes from
 * upstream CI (KVM) or from earlier runs; a lab under TCG is slower, so `speedFactor` scales it
 * (estimate it with speedFactorFrom once some tests ran). Per-script overhead covers what history
 * does not (the runner's own work, logging); per-shard fixed seconds cover clone, boot and teardown.
 */
export interface EtaOptions {
  /** Our seconds per history second; default 1. */
  speedFactor?: number;
  /** Added per executed script (tests + setup/cleanup); default 0. */
  perScriptOverheadSeconds?: number;
  /** Added once per non-empty shard (clone + boot + copy back + destroy); default 0. */
  perShardFixedSeconds?: number;
  /**
   * Seconds per test when the plan has no history (test-count basis). Default 60: a ZTS test in a
   * TCG clone takes about a minute (zpool_create_001_pos: 64–73 s for the test itself, docs/vm-timings.md).
   */
  secondsPerTestWithoutHistory?: number;
}

export interface Eta {
  perShardSeconds: number[];
  /** When the last shard ends, all shards starting together. */
  makespanSeconds: number;
  /** All shards one after the other (one VM at a time). */
  sequentialSeconds: number;
}

export function estimateEta(plan: ShardPlan, options: EtaOptions = {}): Eta {
  const speed = options.speedFactor ?? 1;
  const overhead = options.perScriptOverheadSeconds ?? 0;
  const fixed = options.perShardFixedSeconds ?? 0;
  const perTest = options.secondsPerTestWithoutHistory ?? 60;
  const perShardSeconds = plan.shards.map((shard) => {
    if (shard.sections.length === 0) return 0;
    const work = plan.basis === 'history' ? shard.cost * speed : shard.cost * perTest;
    return work + shard.scripts * overhead + fixed;
  });
  return {
    perShardSeconds,
    makespanSeconds: Math.max(0, ...perShardSeconds),
    sequentialSeconds: perShardSeconds.reduce((a, b) => a + b, 0),
  };
}

/**
 * Our seconds per history second, from the scripts that already finished and have history
 * (ignoring those with under 1 s of history, whose ratio is noise). Undefined until there is some.
 */
export function speedFactorFrom(history: DurationHistory, finished: readonly { testId: string; durationSeconds: number }[]): number | undefined {
  let ours = 0;
  let theirs = 0;
  for (const result of finished) {
    const known = history[result.testId];
    if (known === undefined || known < 1) continue;
    ours += result.durationSeconds;
    theirs += known;
  }
  return theirs > 0 ? ours / theirs : undefined;
}
