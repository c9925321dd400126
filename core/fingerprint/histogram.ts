import type { HistBucket } from './events.js';

/**
 * bpftrace histograms. `hist()` buckets are powers of two printed with 1024-based K/M/G/T/P/E suffixes
 * (`[512, 1K)`), plus `[0]`, `[1]` and `(..., 0)` for negatives; `lhist()` buckets are linear
 * (`[100, 200)`) with open ends `(..., 0)` and `[1000, ...)`. In `-f json` every bucket is
 * `{"min","max","count"}` with both bounds inclusive and the open end's bound missing.
 */

const SUFFIX: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50, E: 2 ** 60 };

function parseBound(text: string): number {
  const match = /^(-?\d+)([KMGTPE]?)$/.exec(text.trim());
  if (!match) throw new Error(`not a histogram bound: ${text}`);
  return Number(match[1]) * (SUFFIX[match[2] as string] as number);
}

/** One histogram line's bucket label: `[4, 8)`, `[1K, 2K)`, `[0]`, `(..., 0)`, `[1000, ...)`. */
export function parseBucketLabel(label: string): { min?: number; max?: number } {
  const single = /^\[(-?\d+[KMGTPE]?)\]$/.exec(label);
  if (single) {
    const value = parseBound(single[1] as string);
    return { min: value, max: value };
  }
  const range = /^([[(])\s*(\.\.\.|-?\d+[KMGTPE]?),\s*(\.\.\.|-?\d+[KMGTPE]?)\s*([\])])$/.exec(label);
  if (!range) throw new Error(`not a histogram bucket: ${label}`);
  const [, , low, high, close] = range as unknown as [string, string, string, string, string];
  const out: { min?: number; max?: number } = {};
  if (low !== '...') out.min = parseBound(low);
  if (high !== '...') out.max = close === ')' ? parseBound(high) - 1 : parseBound(high);
  return out;
}

export interface TextHistogram {
  /** The map name with its key, e.g. `@syscall_ns` and key `read`; key is undefined for an unkeyed map. */
  map: string;
  key?: string;
  buckets: HistBucket[];
}

/**
 * Parses bpftrace's text output (default format) and returns every histogram in it. Lines that are
 * not part of a histogram (printf output, "Attaching N probes...", other maps) are skipped.
 */
export function parseHistogramText(text: string): TextHistogram[] {
  const out: TextHistogram[] = [];
  let current: TextHistogram | undefined;
  for (const line of text.split('\n')) {
    const header = /^(@[A-Za-z0-9_]*)(?:\[(.*)\])?:\s*$/.exec(line);
    if (header) {
      current = { map: header[1] as string, buckets: [] };
      if (header[2] !== undefined) current.key = header[2];
      out.push(current);
      continue;
    }
    const bucket = /^([[(][^\])]*[\])])\s+(\d+)\s+\|[@ ]*\|\s*$/.exec(line);
    if (bucket && current) {
      current.buckets.push({ ...parseBucketLabel(bucket[1] as string), count: Number(bucket[2]) });
      continue;
    }
    if (line.trim() === '') continue;
    current = undefined;
  }
  return out.filter((h) => h.buckets.length > 0);
}

/**
 * The q-quantile (0 < q ≤ 1) of a bucketed distribution, interpolated linearly inside the bucket
 * that holds it. Power-of-two buckets make this an estimate: the true value lies in the same bucket.
 * Returns undefined for an empty histogram.
 */
export function quantileFromBuckets(buckets: readonly HistBucket[], q: number): number | undefined {
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (const bucket of buckets) {
    if (bucket.count === 0) continue;
    if (seen + bucket.count >= rank) {
      const low = bucket.min ?? bucket.max ?? 0;
      const high = bucket.max ?? bucket.min ?? 0;
      if (low === high) return low;
      const within = (rank - seen) / bucket.count;
      return low + (high + 1 - low) * within;
    }
    seen += bucket.count;
  }
  const last = buckets[buckets.length - 1] as HistBucket;
  return last.max ?? last.min ?? 0;
}

/** Adds `more` into `into` bucket by bucket (same bounds), keeping them sorted by lower bound. */
export function mergeBuckets(into: HistBucket[], more: readonly HistBucket[]): HistBucket[] {
  const byBounds = new Map<string, HistBucket>();
  for (const b of into) byBounds.set(`${b.min}:${b.max}`, { ...b });
  for (const b of more) {
    const key = `${b.min}:${b.max}`;
    const existing = byBounds.get(key);
    if (existing) existing.count += b.count;
    else byBounds.set(key, { ...b });
  }
  return [...byBounds.values()].sort((a, b) => (a.min ?? -Infinity) - (b.min ?? -Infinity));
}
