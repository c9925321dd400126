import { composeRunfile } from '../runfile/compose.js';
import type { RunfileDocument } from '../runfile/document.js';
import { resolveRunfiles } from '../runfile/resolve.js';
import { costModel } from './cost.js';
import type { CostBasis, SectionCost } from './cost.js';
import type { DurationHistory } from './durations.js';

export interface Shard {
  /** 1-based, like upstream's `-T k/N`. */
  index: number;
  /** Section names, in runfile order. */
  sections: string[];
  tests: number;
  scripts: number;
  /** Seconds (history basis) or tests (test-count basis). */
  cost: number;
}

export interface ShardPlan {
  basis: CostBasis;
  shards: Shard[];
  /** The largest shard cost: when the last shard finishes if all start together. */
  makespan: number;
  /** No split can beat max(total / N, the most expensive group). */
  lowerBound: number;
  total: number;
  /** Tests with no history (estimated at the mean). */
  unknownTests: string[];
}

/**
 * Splits a selected runfile over `shardCount` shards, groups kept whole (a group's setup must run in
 * the same VM before its tests): longest processing time first — the most expensive group goes to
 * the least loaded shard — then moves and swaps of single groups off the most loaded shard while they
 * lower it. Deterministic (ties by section name, then shard index), so it is safe in a workflow.
 */
export function planShards(runfile: RunfileDocument | readonly RunfileDocument[], history: DurationHistory, shardCount: number): ShardPlan {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count must be a positive integer, got ${shardCount}`);
  const docs = Array.isArray(runfile) ? (runfile as readonly RunfileDocument[]) : [runfile as RunfileDocument];
  const model = costModel(history);
  const sections = resolveRunfiles(docs).sections;
  const costs = sections.map((s) => model.sectionCost(s));
  const order = new Map(sections.map((s, i) => [s.section, i]));

  const bins: SectionCost[][] = Array.from({ length: shardCount }, () => []);
  const loads = new Array<number>(shardCount).fill(0);
  const byCost = [...costs].sort((a, b) => b.cost - a.cost || compare(a.section, b.section));
  for (const item of byCost) {
    const target = argMin(loads);
    bins[target]?.push(item);
    loads[target] = (loads[target] as number) + item.cost;
  }
  improve(bins, loads);

  const total = costs.reduce((sum, c) => sum + c.cost, 0);
  const largest = costs.reduce((max, c) => Math.max(max, c.cost), 0);
  const shards = bins.map((bin, i) => {
    const sorted = [...bin].sort((a, b) => (order.get(a.section) as number) - (order.get(b.section) as number));
    return {
      index: i + 1,
      sections: sorted.map((c) => c.section),
      tests: sum(sorted.map((c) => c.tests)),
      scripts: sum(sorted.map((c) => c.scripts)),
      cost: sum(sorted.map((c) => c.cost)),
    };
  });
  return {
    basis: model.basis,
    shards,
    makespan: Math.max(...shards.map((s) => s.cost)),
    lowerBound: Math.max(total / shardCount, largest),
    total,
    unknownTests: costs.flatMap((c) => c.unknownTests),
  };
}

/** One runfile per shard (empty shards give none), each keeping its groups' settings. */
export function shardRunfiles(runfile: RunfileDocument | readonly RunfileDocument[], plan: ShardPlan): RunfileDocument[] {
  const docs = Array.isArray(runfile) ? (runfile as readonly RunfileDocument[]) : [runfile as RunfileDocument];
  return plan.shards
    .filter((shard) => shard.sections.length > 0)
    .map((shard) =>
      composeRunfile(
        docs,
        shard.sections.map((section) => ({ section })),
        `shard ${shard.index}/${plan.shards.length}`,
      ),
    );
}

/** Local search: move or swap one group between the most loaded shard and another while that lowers the maximum. */
function improve(bins: SectionCost[][], loads: number[]): void {
  for (let round = 0; round < 10_000; round++) {
    const heavy = argMax(loads);
    const heavyLoad = loads[heavy] as number;
    let best: { gain: number; apply: () => void } | undefined;
    const heavyBin = bins[heavy] as SectionCost[];
    for (let other = 0; other < bins.length; other++) {
      if (other === heavy) continue;
      const otherLoad = loads[other] as number;
      const otherBin = bins[other] as SectionCost[];
      for (let i = 0; i < heavyBin.length; i++) {
        const item = heavyBin[i] as SectionCost;
        const consider = (delta: number, apply: () => void): void => {
          const newMax = Math.max(heavyLoad - delta, otherLoad + delta);
          const gain = heavyLoad - newMax;
          if (gain > 1e-9 && (!best || gain > best.gain + 1e-9)) best = { gain, apply };
        };
        consider(item.cost, () => {
          heavyBin.splice(i, 1);
          otherBin.push(item);
          loads[heavy] = heavyLoad - item.cost;
          loads[other] = otherLoad + item.cost;
        });
        for (let j = 0; j < otherBin.length; j++) {
          const swap = otherBin[j] as SectionCost;
          if (swap.cost >= item.cost) continue;
          const delta = item.cost - swap.cost;
          consider(delta, () => {
            heavyBin[i] = swap;
            otherBin[j] = item;
            loads[heavy] = heavyLoad - delta;
            loads[other] = otherLoad + delta;
          });
        }
      }
    }
    if (!best) return;
    best.apply();
  }
}

function argMin(values: readonly number[]): number {
  let at = 0;
  values.forEach((v, i) => {
    if (v < (values[at] as number)) at = i;
  });
  return at;
}

function argMax(values: readonly number[]): number {
  let at = 0;
  values.forEach((v, i) => {
    if (v > (values[at] as number)) at = i;
  });
  return at;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
