import type { Fingerprint, SectionName } from './schema.js';
import { DEFAULT_TOLERANCES, STABLE_COUNT_SPREAD, STABLE_LATENCY_SPREAD, type Tolerances } from './tolerances.js';

/**
 * Run-to-run variance of two or more captures of the same workload: per category, how far
 * each key's count (and rate) spreads, which keys appear in only some captures, and the tolerances the
 * detector should use so that a rerun of the same workload does not raise an alarm.
 *
 * Spread of one key = (max − min) / mean over the captures. Derived tolerance = the stable bound or
 * 1.5 × the largest spread seen, whichever is larger: a couple of runs understate the true range.
 */
export type CountCategory = 'syscalls' | 'binaries_spawned' | 'ioctl_codes' | 'network_destinations';
export type SetCategory = 'filesystem_paths_modified' | 'filesystem_paths_read';
const COUNT_CATEGORIES: readonly CountCategory[] = ['syscalls', 'binaries_spawned', 'ioctl_codes', 'network_destinations'];
const SET_CATEGORIES: readonly SetCategory[] = ['filesystem_paths_modified', 'filesystem_paths_read'];

export interface Spread {
  max: number;
  median: number;
  /** The key with the largest spread. */
  worstKey?: string;
}

export interface CategoryVariance {
  category: SectionName;
  /** False when the section was not captured in every capture; `reason` says why. */
  compared: boolean;
  reason?: string;
  /** Keys present in every capture and large enough to compare. */
  keys: number;
  countSpread?: Spread;
  rateSpread?: Spread;
  /** Keys present in some captures only. */
  unstableKeys: string[];
  /** Whether the spread stays within the stable bounds (5% counts, 10% latency) and no key comes and goes. */
  withinStableBounds: boolean;
}

export interface StabilityReport {
  workload: string;
  captures: number;
  durations: number[];
  categories: CategoryVariance[];
  stable: boolean;
  /** Tolerances for `fingerprint detect --tolerances`. */
  tolerances: Tolerances;
}

const MARGIN = 1.5;

export function verifyStability(fingerprints: readonly Fingerprint[], base: Tolerances = DEFAULT_TOLERANCES): StabilityReport {
  if (fingerprints.length < 2) throw new Error('stability needs at least two captures of the same workload');
  const categories: CategoryVariance[] = [];
  const tolerances: Tolerances = structuredClone(base);
  const countSpreads: number[] = [];
  const rateSpreads: number[] = [];

  const perCategory = new Map<CountCategory, { count: Spread; rate: Spread } | undefined>();
  for (const category of COUNT_CATEGORIES) {
    const missing = notCapturedReason(fingerprints, category);
    if (missing) {
      categories.push({ category, compared: false, reason: missing, keys: 0, unstableKeys: [], withinStableBounds: true });
      perCategory.set(category, undefined);
      continue;
    }
    const maps = fingerprints.map((fp) => countsOf(fp, category));
    const { common, unstable } = splitKeys(maps.map((m) => new Set(m.keys())));
    const counts: [string, number][] = [];
    const rates: [string, number][] = [];
    for (const key of common) {
      const values = maps.map((m) => m.get(key) as number);
      if (Math.max(...values) < base.min_count) continue;
      counts.push([key, spread(values)]);
      rates.push([key, spread(values.map((v, i) => v / Math.max((fingerprints[i] as Fingerprint).duration_s, 1e-9)))]);
    }
    const count = summarise(counts);
    const rate = summarise(rates);
    if (category === 'syscalls') {
      countSpreads.push(count.median);
      rateSpreads.push(rate.median);
    }
    perCategory.set(category, { count, rate });
    tolerances.unstable[category] = unstable;
    categories.push({
      category,
      compared: true,
      keys: counts.length,
      countSpread: count,
      rateSpread: rate,
      unstableKeys: unstable,
      withinStableBounds: false, // decided below, once the basis is known
    });
  }
  // Fixed-work workloads repeat counts; time-bound ones repeat rates. Use whichever varied less.
  tolerances.rate_basis =
    countSpreads.length > 0 && (countSpreads[0] as number) <= (rateSpreads[0] as number) ? 'count' : countSpreads.length > 0 ? 'rate' : base.rate_basis;
  for (const entry of categories) {
    const spreads = perCategory.get(entry.category as CountCategory);
    if (!entry.compared || !spreads) continue;
    const chosen = tolerances.rate_basis === 'count' ? spreads.count : spreads.rate;
    tolerances.counts[entry.category as CountCategory] = Math.max(STABLE_COUNT_SPREAD, ceil2(chosen.max * MARGIN));
    if (entry.keys === 0) {
      // Nothing big enough to compare: no spread to speak of.
      delete entry.countSpread;
      delete entry.rateSpread;
    }
    entry.withinStableBounds = chosen.max <= STABLE_COUNT_SPREAD && entry.unstableKeys.length === 0;
  }

  {
    const category: SectionName = 'kfunc_latency_p99_us';
    const missing = notCapturedReason(fingerprints, category);
    if (missing) categories.push({ category, compared: false, reason: missing, keys: 0, unstableKeys: [], withinStableBounds: true });
    else {
      const maps = fingerprints.map((fp) => new Map(Object.entries(fp.kfunc_latency_p99_us)));
      const { common, unstable } = splitKeys(maps.map((m) => new Set(m.keys())));
      const spreads: [string, number][] = [];
      for (const func of common) {
        const enoughCalls = fingerprints.every((fp) => (fp.kfunc_calls[func] ?? 0) >= base.min_kfunc_calls);
        if (!enoughCalls) continue;
        spreads.push([func, spread(maps.map((m) => m.get(func) as number))]);
      }
      const latency = summarise(spreads);
      tolerances.latency = Math.max(STABLE_LATENCY_SPREAD, ceil2(latency.max * MARGIN));
      categories.push({
        category,
        compared: true,
        keys: spreads.length,
        countSpread: latency,
        unstableKeys: unstable,
        withinStableBounds: latency.max <= STABLE_LATENCY_SPREAD,
      });
    }
  }

  for (const category of SET_CATEGORIES) {
    const missing = notCapturedReason(fingerprints, category);
    if (missing) {
      categories.push({ category, compared: false, reason: missing, keys: 0, unstableKeys: [], withinStableBounds: true });
      continue;
    }
    const { common, unstable } = splitKeys(fingerprints.map((fp) => new Set(fp[category])));
    tolerances.unstable[category] = unstable;
    categories.push({ category, compared: true, keys: common.length, unstableKeys: unstable, withinStableBounds: unstable.length === 0 });
  }

  const first = fingerprints[0] as Fingerprint;
  tolerances.derived_from = {
    workload: first.workload,
    captures: fingerprints.length,
    captured_at: fingerprints.map((fp) => fp.captured_at),
  };
  return {
    workload: first.workload,
    captures: fingerprints.length,
    durations: fingerprints.map((fp) => fp.duration_s),
    categories,
    // Read-only path sets are informational: a cache file opened once in a while should not make a capture pair "unstable".
    stable: categories.every((c) => c.withinStableBounds || c.category === 'filesystem_paths_read'),
    tolerances,
  };
}

function notCapturedReason(fingerprints: readonly Fingerprint[], section: SectionName): string | undefined {
  for (const [i, fp] of fingerprints.entries()) {
    const coverage = fp.capture.sections[section];
    if (coverage.status === 'not_captured') return `capture ${i + 1}: ${coverage.reason}`;
  }
  return undefined;
}

/** Count per key, keyed the way the detector keys them. */
export function countsOf(fp: Fingerprint, category: CountCategory): Map<string, number> {
  switch (category) {
    case 'syscalls':
      return new Map(Object.entries(fp.syscalls).map(([name, s]) => [name, s.count]));
    case 'ioctl_codes':
      return new Map(Object.entries(fp.ioctl_codes).map(([hex, s]) => [hex, s.count]));
    case 'binaries_spawned':
      return new Map(fp.binaries_spawned.map((b) => [b.path, b.count]));
    case 'network_destinations':
      return new Map(fp.network_destinations.map((d) => [destinationKey(d), d.count]));
  }
}

export function destinationKey(d: { family: string; address: string; port: number }): string {
  return d.family === 'unix' ? `unix ${d.address}` : d.family === 'inet6' ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

function splitKeys(sets: readonly Set<string>[]): { common: string[]; unstable: string[] } {
  const all = new Set(sets.flatMap((s) => [...s]));
  const common: string[] = [];
  const unstable: string[] = [];
  for (const key of [...all].sort()) (sets.every((s) => s.has(key)) ? common : unstable).push(key);
  return { common, unstable };
}

function spread(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return 0;
  return (Math.max(...values) - Math.min(...values)) / mean;
}

function summarise(spreads: readonly [string, number][]): Spread {
  if (spreads.length === 0) return { max: 0, median: 0 };
  const sorted = [...spreads].sort((a, b) => a[1] - b[1]);
  const worst = sorted[sorted.length - 1] as [string, number];
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 === 1
      ? (sorted[Math.floor(mid)] as [string, number])[1]
      : ((sorted[mid - 1] as [string, number])[1] + (sorted[mid] as [string, number])[1]) / 2;
  return { max: worst[1], median, ...(worst[1] > 0 ? { worstKey: worst[0] } : {}) };
}

function ceil2(value: number): number {
  return Math.ceil(value * 100) / 100;
}
