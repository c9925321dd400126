import { z } from 'zod';
import type { HistBucket } from '../fingerprint/events.js';
import { mergeBuckets, quantileFromBuckets } from '../fingerprint/histogram.js';
import type { KstatStep } from './steps.js';
import type { ZioWindow } from './stream.js';

/**
 * The probes of one script (test, setup or cleanup), from the records that arrived while it ran:
 * a script spans from the previous script's result line (or the runner's start) to its own.
 */
const BucketSchema = z.object({ min: z.number().optional(), max: z.number().optional(), count: z.number().int().nonnegative() });

const LatencySchema = z.object({
  count: z.number().int().nonnegative(),
  p50Seconds: z.number().optional(),
  p95Seconds: z.number().optional(),
  p99Seconds: z.number().optional(),
  maxSeconds: z.number().optional(),
});

export const ZioSummarySchema = LatencySchema.extend({
  /** log2 buckets of zio lifetimes, ns (bpftrace's `hist`, bounds inclusive). */
  buckets: z.array(BucketSchema),
  /** The same per probe window, for a heatmap: the window's end (host clock) and its buckets. */
  windows: z.array(z.object({ atMs: z.number(), buckets: z.array(BucketSchema) })),
});
export type ZioSummary = z.infer<typeof ZioSummarySchema>;

export const TxgSummarySchema = LatencySchema.extend({ totalSeconds: z.number(), writtenBytes: z.number() });

export const ProbeScriptSummarySchema = z.object({
  testId: z.string().min(1),
  startMs: z.number(),
  endMs: z.number(),
  zio: z.record(z.string(), ZioSummarySchema),
  /** Per pool: the sync time of each txg committed while the script ran. */
  txg: z.record(z.string(), TxgSummarySchema),
  arc: z
    .object({
      hits: z.number(),
      misses: z.number(),
      hitRatio: z.number().optional(),
      evictedBytes: z.number(),
      /** List sizes at the script's end. */
      sizes: z.record(z.string(), z.number()),
    })
    .optional(),
  spl: z
    .object({
      slabAllocBytesMax: z.number().optional(),
      availableBytesMin: z.number().optional(),
      memoryThrottles: z.number(),
      directReclaims: z.number(),
      indirectReclaims: z.number(),
    })
    .optional(),
});
export type ProbeScriptSummary = z.infer<typeof ProbeScriptSummarySchema>;

/** What a chunk's probes give its results file. */
export const ChunkProbesSchema = z.object({
  /** The kinds that ran (a kind asked for and not captured is in notCaptured). */
  captured: z.array(z.enum(['zio', 'kstat'])),
  notCaptured: z.array(z.object({ probe: z.string(), reason: z.string() })),
  /** The raw stamped output of each pass (gzip), in S3. */
  rawKeys: z.array(z.string()),
  scripts: z.array(ProbeScriptSummarySchema),
});
export type ChunkProbes = z.infer<typeof ChunkProbesSchema>;

/** Each (probe, reason) once: a chunk's passes, and the plan and the run of one pass, report the same thing again. */
export function uniqueNotCaptured(items: readonly ChunkProbes['notCaptured'][number][]): ChunkProbes['notCaptured'] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = `${i.probe}\t${i.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The probes of a chunk's passes (a crash starts a new pass in a fresh clone), together. */
export function mergeChunkProbes(into: ChunkProbes | undefined, more: ChunkProbes): ChunkProbes {
  if (!into) return more;
  return {
    captured: [...new Set([...into.captured, ...more.captured])],
    notCaptured: uniqueNotCaptured([...into.notCaptured, ...more.notCaptured]),
    rawKeys: [...into.rawKeys, ...more.rawKeys],
    scripts: [...into.scripts, ...more.scripts],
  };
}

export interface ScriptSpan {
  testId: string;
  startMs: number;
  endMs: number;
}

/** Spans from the result lines' arrival times, in the order they ended; the first starts at `startMs`. */
export function spansFromEnds(startMs: number, ends: readonly { testId: string; atMs: number }[]): ScriptSpan[] {
  let from = startMs;
  return ends.map((e) => {
    const span = { testId: e.testId, startMs: from, endMs: e.atMs };
    from = e.atMs;
    return span;
  });
}

/** A record at `atMs` belongs to the span with startMs < atMs ≤ endMs. */
function spanIndex(spans: readonly ScriptSpan[], atMs: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid] as ScriptSpan;
    if (atMs <= s.startMs) hi = mid - 1;
    else if (atMs > s.endMs) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export function summarizeProbes(spans: readonly ScriptSpan[], steps: readonly KstatStep[], windows: readonly ZioWindow[]): ProbeScriptSummary[] {
  const zioBy = spans.map(() => new Map<string, { buckets: HistBucket[]; windows: { atMs: number; buckets: HistBucket[] }[] }>());
  for (const w of windows) {
    const i = spanIndex(spans, w.atMs);
    if (i < 0) continue;
    for (const [type, buckets] of w.histograms) {
      const entry = zioBy[i]!.get(type) ?? { buckets: [], windows: [] };
      entry.buckets = mergeBuckets(entry.buckets, buckets);
      entry.windows.push({ atMs: w.atMs, buckets });
      zioBy[i]!.set(type, entry);
    }
  }
  const stepsBy = spans.map((): KstatStep[] => []);
  for (const step of steps) {
    const i = spanIndex(spans, step.atMs);
    if (i >= 0) stepsBy[i]!.push(step);
  }
  return spans.map((span, i): ProbeScriptSummary => {
    const zio: Record<string, ZioSummary> = {};
    for (const [type, entry] of zioBy[i]!) zio[type] = { ...latencyOf(entry.buckets, 1e-9), buckets: entry.buckets, windows: entry.windows };
    const own = stepsBy[i]!;
    return { testId: span.testId, startMs: span.startMs, endMs: span.endMs, zio, txg: txgOf(own), ...arcAndSpl(own) };
  });
}

function latencyOf(buckets: readonly HistBucket[], scale: number): z.infer<typeof LatencySchema> {
  const count = buckets.reduce((s, b) => s + b.count, 0);
  const q = (p: number): number | undefined => {
    const v = quantileFromBuckets(buckets, p);
    return v === undefined ? undefined : v * scale;
  };
  const nonEmpty = buckets.filter((b) => b.count > 0);
  const top = nonEmpty[nonEmpty.length - 1];
  const out: z.infer<typeof LatencySchema> = { count };
  const set = (k: 'p50Seconds' | 'p95Seconds' | 'p99Seconds' | 'maxSeconds', v: number | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('p50Seconds', q(0.5));
  set('p95Seconds', q(0.95));
  set('p99Seconds', q(0.99));
  // The top bucket's upper bound: the slowest zio was at most this long.
  set('maxSeconds', top ? (top.max ?? top.min ?? 0) * scale : undefined);
  return out;
}

function txgOf(steps: readonly KstatStep[]): Record<string, z.infer<typeof TxgSummarySchema>> {
  const byPool = new Map<string, { seconds: number[]; written: number }>();
  for (const step of steps)
    for (const s of step.txgSyncs) {
      const entry = byPool.get(s.pool) ?? { seconds: [], written: 0 };
      entry.seconds.push(s.syncSeconds);
      entry.written += s.writtenBytes;
      byPool.set(s.pool, entry);
    }
  const out: Record<string, z.infer<typeof TxgSummarySchema>> = {};
  for (const [pool, { seconds, written }] of byPool) {
    const sorted = [...seconds].sort((a, b) => a - b);
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
    out[pool] = {
      count: sorted.length,
      p50Seconds: at(0.5),
      p95Seconds: at(0.95),
      p99Seconds: at(0.99),
      maxSeconds: sorted[sorted.length - 1] as number,
      totalSeconds: sorted.reduce((a, b) => a + b, 0),
      writtenBytes: written,
    };
  }
  return out;
}

function arcAndSpl(steps: readonly KstatStep[]): Pick<ProbeScriptSummary, 'arc' | 'spl'> {
  const withArc = steps.filter((s) => s.arc);
  if (steps.length === 0) return {};
  const sum = (f: (s: KstatStep) => number): number => withArc.reduce((a, s) => a + f(s), 0);
  const hits = sum((s) => s.arc!.hits);
  const misses = sum((s) => s.arc!.misses);
  const last = steps[steps.length - 1] as KstatStep;
  const out: Pick<ProbeScriptSummary, 'arc' | 'spl'> = {
    arc: {
      hits,
      misses,
      evictedBytes: sum((s) => s.arc!.evictedBytes),
      sizes: last.arcSizes,
      ...(hits + misses > 0 ? { hitRatio: hits / (hits + misses) } : {}),
    },
  };
  const slab = steps.map((s) => s.slabAllocBytes).filter((v): v is number => v !== undefined);
  const available = steps.map((s) => s.availableBytes).filter((v): v is number => v !== undefined);
  out.spl = {
    memoryThrottles: sum((s) => s.arc!.memoryThrottles),
    directReclaims: sum((s) => s.arc!.directReclaims),
    indirectReclaims: sum((s) => s.arc!.indirectReclaims),
    ...(slab.length > 0 ? { slabAllocBytesMax: Math.max(...slab) } : {}),
    ...(available.length > 0 ? { availableBytesMin: Math.min(...available) } : {}),
  };
  return out;
}
