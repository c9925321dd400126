import { z } from 'zod';
import type { LatencyHeatmap } from '../report/html.js';

/** A stored zio row's detail (lib/store/probes.ts): per-window buckets of one zio type of one script. */
export const ZioDetailSchema = z.object({
  startMs: z.number(),
  windows: z.array(z.object({ atMs: z.number(), buckets: z.array(z.object({ min: z.number().optional(), max: z.number().optional(), count: z.number() })) })),
});

export interface ZioRow {
  testId: string;
  flavorId: string;
  series: string;
  count: number;
  detail: unknown;
}

/**
 * The test a report's heatmap shows when none is named: the one whose zios were most numerous (the
 * busiest I/O of the run), over every type.
 */
export function busiestTest(rows: readonly ZioRow[]): { testId: string; flavorId: string } | undefined {
  const totals = new Map<string, { testId: string; flavorId: string; count: number }>();
  for (const r of rows) {
    const key = `${r.flavorId}\t${r.testId}`;
    const t = totals.get(key) ?? { testId: r.testId, flavorId: r.flavorId, count: 0 };
    t.count += r.count;
    totals.set(key, t);
  }
  const best = [...totals.values()].sort((a, b) => b.count - a.count || a.testId.localeCompare(b.testId))[0];
  return best ? { testId: best.testId, flavorId: best.flavorId } : undefined;
}

/**
 * One test's zio latency heatmap: x the probe windows (seconds into the test), y the log2 buckets
 * (their upper bound, seconds), every zio type of `types` (default all) added together.
 */
export function zioHeatmap(rows: readonly ZioRow[], testId: string, flavorId: string, types?: readonly string[]): LatencyHeatmap | undefined {
  const mine = rows.filter((r) => r.testId === testId && r.flavorId === flavorId && (!types || types.includes(r.series)));
  const byWindow = new Map<number, Map<number, number>>();
  const bounds = new Set<number>();
  let startMs: number | undefined;
  for (const row of mine) {
    const detail = ZioDetailSchema.safeParse(row.detail);
    if (!detail.success) continue;
    startMs = startMs === undefined ? detail.data.startMs : Math.min(startMs, detail.data.startMs);
    for (const w of detail.data.windows) {
      const cells = byWindow.get(w.atMs) ?? new Map<number, number>();
      for (const b of w.buckets) {
        const upper = ((b.max ?? b.min ?? 0) + 1) / 1e9;
        bounds.add(upper);
        cells.set(upper, (cells.get(upper) ?? 0) + b.count);
      }
      byWindow.set(w.atMs, cells);
    }
  }
  if (byWindow.size === 0 || startMs === undefined) return undefined;
  const bucketsSeconds = [...bounds].sort((a, b) => a - b);
  const times = [...byWindow.keys()].sort((a, b) => a - b);
  const from = startMs;
  return {
    testId,
    flavorId,
    bucketsSeconds,
    steps: times.map((t) => `+${Math.round((t - from) / 1000)} s`),
    counts: times.map((t) => bucketsSeconds.map((upper) => byWindow.get(t)?.get(upper) ?? 0)),
  };
}
