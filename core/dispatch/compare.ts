import type { RunfileDocument } from '../runfile/document.js';
import { resolveRunfiles } from '../runfile/resolve.js';
import { planShards } from '../shard/balance.js';
import { costModel } from '../shard/cost.js';
import type { DurationHistory } from '../shard/durations.js';
import { planUpstreamSplit } from '../shard/upstream-split.js';
import { simulateDispatch } from './simulate.js';
import { scriptSeconds, workItems } from './work.js';

/**
 * One campaign over N slots, planned from one duration table (`history`) and run with the durations of
 * another (`actual`): out of sample. Three ways side by side:
 *   dynamic   this dispatcher, simulated (./simulate.ts) with the actual durations;
 *   static    today's shards (core/shard/balance.ts), planned from history, each shard's actual sum;
 *   upstream  `zfs-tests.sh -T k/N`, which ignores durations, costed with the actual durations.
 * The lower bound is max(actual total / N, the longest actual group) for whole groups, and actual
 * total / N for split groups (a group split in parts has no floor but a single test); on a mixed fleet,
 * N is the sum of the slots' speeds and the longest group runs on a fast slot.
 */
export type SplitKind = 'dynamic' | 'static' | 'upstream';

export interface MakespanRow {
  slots: number;
  split: SplitKind;
  /** Dynamic dispatch with `--split-groups`. */
  splitGroups: boolean;
  makespanSeconds: number;
  lowerBoundSeconds: number;
  /** Items handed out (groups, or group parts), for dynamic rows. */
  items?: number;
  /** Groups split in parts, for split rows. */
  groupsSplit?: number;
}

export interface CompareOptions {
  splitGroups?: boolean;
  /** Split groups above this share of the fair share (total / N); default 1. Parts cost at most half the fair share. */
  splitAboveShare?: number;
  /** Sections never split (./split-audit.ts). */
  neverSplit?: readonly string[];
  target?: string;
  /**
   * A mixed fleet: the last `slowSlots` of the N slots run at `slowSpeed` (a TCG host against KVM history is
   * 10–20× slower). Static and upstream shards do not know speeds: shard k runs on slot k.
   */
  slowSlots?: number;
  slowSpeed?: number;
}

export function compareSplits(
  docs: readonly RunfileDocument[],
  history: DurationHistory,
  actual: DurationHistory,
  slotCounts: readonly number[],
  options: CompareOptions = {},
): MakespanRow[] {
  const target = options.target ?? 'bench';
  const sections = resolveRunfiles(docs).sections;
  const bySection = new Map(sections.map((s) => [s.section, s]));
  const planned = costModel(history);
  const real = costModel(actual);
  const realCost = new Map(sections.map((s) => [s.section, real.sectionCost(s).cost]));
  const realTotal = [...realCost.values()].reduce((a, b) => a + b, 0);
  const realLargest = Math.max(0, ...realCost.values());
  const plannedTotal = sections.reduce((n, s) => n + planned.sectionCost(s).cost, 0);
  const rows: MakespanRow[] = [];
  const slowSpeed = options.slowSpeed ?? 1;
  if (!(slowSpeed > 0)) throw new RangeError(`slow speed must be positive, got ${slowSpeed}`);
  const speeds = (n: number): number[] => Array.from({ length: n }, (_, i) => (i >= n - Math.min(n, options.slowSlots ?? 0) ? slowSpeed : 1));
  // With speeds s_i no split beats max(total / sum s_i, the longest group on the fastest slot).
  const bound = (n: number, total: number, largest: number): number => {
    const s = speeds(n);
    return Math.max(total / s.reduce((a, b) => a + b, 0), largest / Math.max(...s));
  };

  const dynamic = (n: number, split: boolean): MakespanRow => {
    const items = workItems(
      target,
      sections,
      planned,
      split ? { splitAbove: (plannedTotal / n) * (options.splitAboveShare ?? 1), partCost: plannedTotal / n / 2, neverSplit: options.neverSplit ?? [] } : {},
    );
    const slots = speeds(n).map((speed, i) => ({
      slotId: `slot-${String(i + 1).padStart(2, '0')}`,
      hostId: speed === 1 ? 'host' : 'slow-host',
      targets: [target],
      speed,
    }));
    const sim = simulateDispatch(items, { slots, actual: (item, testIds) => scriptSeconds(bySection.get(item.section)!, testIds, real) });
    return {
      slots: n,
      split: 'dynamic',
      splitGroups: split,
      makespanSeconds: sim.makespanSeconds,
      lowerBoundSeconds: split ? bound(n, realTotal, 0) : bound(n, realTotal, realLargest),
      items: items.length,
      ...(split ? { groupsSplit: new Set(items.filter((i) => i.part).map((i) => i.section)).size } : {}),
    };
  };

  for (const n of slotCounts) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`slot count must be a positive integer, got ${n}`);
    const lowerBoundSeconds = bound(n, realTotal, realLargest);
    const speed = speeds(n);
    rows.push(dynamic(n, false));
    if (options.splitGroups) rows.push(dynamic(n, true));
    const shards = planShards(docs, history, n);
    const staticMakespan = Math.max(
      ...shards.shards.map((shard, i) => shard.sections.reduce((t, name) => t + (realCost.get(name) ?? 0), 0) / (speed[i] as number)),
    );
    rows.push({ slots: n, split: 'static', splitGroups: false, makespanSeconds: staticMakespan, lowerBoundSeconds });
    const upstream = planUpstreamSplit(docs, actual, n);
    rows.push({
      slots: n,
      split: 'upstream',
      splitGroups: false,
      makespanSeconds: Math.max(...upstream.shards.map((shard, i) => shard.cost / (speed[i] as number))),
      lowerBoundSeconds,
    });
  }
  return rows;
}
