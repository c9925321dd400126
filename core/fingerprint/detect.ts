import { isCoveredBy } from './path-glob.js';
import type { Fingerprint, SectionName } from './schema.js';
import { countsOf, type CountCategory } from './stability.js';
import { DEFAULT_TOLERANCES, type Tolerances } from './tolerances.js';

/**
 * Compares a fresh capture with a baseline: schema drift (a key the baseline never had, or
 * one it had that is gone), rate drift both ways (beyond tolerance, per second or per run as the
 * tolerances say), latency drift. Sections either capture did not fill are never compared: a lost
 * section is reported as a coverage deviation, not as everything having vanished.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type DeviationKind = 'new' | 'missing' | 'rate_up' | 'rate_down' | 'latency_up' | 'latency_down' | 'coverage';

export interface Deviation {
  kind: DeviationKind;
  /** schema drift (new/missing/coverage) or statistical drift (rate/latency). */
  drift: 'schema' | 'rate' | 'latency' | 'coverage';
  category: SectionName;
  key: string;
  severity: Severity;
  baseline?: number;
  current?: number;
  /** Relative change, (current − baseline) / baseline. */
  change?: number;
  /** The tolerance the change was held against. */
  tolerance?: number;
  message: string;
}

export interface DetectionReport {
  workload: { baseline: string; current: string };
  deviations: Deviation[];
  /** Sections compared, and those skipped with the reason. */
  compared: SectionName[];
  skipped: { section: SectionName; reason: string }[];
  bySeverity: Record<Severity, number>;
}

/** Shells whose appearance in a workload that never ran one is the classic post-exploitation sign. */
export const SHELL_BINARIES = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'ksh93', 'mksh', 'csh', 'tcsh', 'fish', 'busybox']);

const NEW_SEVERITY: Record<SectionName, Severity> = {
  syscalls: 'high',
  binaries_spawned: 'high',
  ioctl_codes: 'high',
  network_destinations: 'high',
  filesystem_paths_modified: 'medium',
  filesystem_paths_read: 'low',
  kfunc_latency_p99_us: 'info',
};
const MISSING_SEVERITY: Record<SectionName, Severity> = {
  syscalls: 'medium',
  binaries_spawned: 'medium',
  ioctl_codes: 'medium',
  network_destinations: 'medium',
  filesystem_paths_modified: 'low',
  filesystem_paths_read: 'info',
  kfunc_latency_p99_us: 'info',
};

export function detectDeviations(baseline: Fingerprint, current: Fingerprint, tolerances: Tolerances = DEFAULT_TOLERANCES): DetectionReport {
  const deviations: Deviation[] = [];
  const compared: SectionName[] = [];
  const skipped: { section: SectionName; reason: string }[] = [];
  const sections: SectionName[] = [
    'syscalls',
    'binaries_spawned',
    'ioctl_codes',
    'network_destinations',
    'filesystem_paths_modified',
    'filesystem_paths_read',
    'kfunc_latency_p99_us',
  ];
  for (const section of sections) {
    const b = baseline.capture.sections[section];
    const c = current.capture.sections[section];
    if (b.status === 'not_captured') {
      skipped.push({ section, reason: `not in the baseline: ${b.reason}` });
      continue;
    }
    if (c.status === 'not_captured') {
      skipped.push({ section, reason: `not in the current capture: ${c.reason}` });
      deviations.push({
        kind: 'coverage',
        drift: 'coverage',
        category: section,
        key: section,
        severity: 'low',
        message: `${section} was captured for the baseline but not now (${c.reason}); it cannot be compared`,
      });
      continue;
    }
    compared.push(section);
    if (section === 'kfunc_latency_p99_us') deviations.push(...latencyDrift(baseline, current, tolerances));
    else if (section === 'filesystem_paths_modified' || section === 'filesystem_paths_read')
      deviations.push(...pathDrift(section, baseline[section], current[section], tolerances.unstable[section]));
    else deviations.push(...countDrift(section, baseline, current, tolerances));
  }
  const order = (d: Deviation) => SEVERITIES.indexOf(d.severity);
  deviations.sort((a, b) => order(b) - order(a) || a.category.localeCompare(b.category) || a.key.localeCompare(b.key));
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, deviations.filter((d) => d.severity === s).length])) as Record<Severity, number>;
  return { workload: { baseline: baseline.workload, current: current.workload }, deviations, compared, skipped, bySeverity };
}

function countDrift(category: CountCategory, baseline: Fingerprint, current: Fingerprint, tolerances: Tolerances): Deviation[] {
  const out: Deviation[] = [];
  const base = countsOf(baseline, category);
  const now = countsOf(current, category);
  const unstable = new Set(tolerances.unstable[category]);
  const label = LABEL[category];
  for (const [key, count] of now) {
    if (base.has(key) || unstable.has(key)) continue;
    const shell = category === 'binaries_spawned' && SHELL_BINARIES.has(key.slice(key.lastIndexOf('/') + 1));
    out.push({
      kind: 'new',
      drift: 'schema',
      category,
      key,
      severity: shell ? 'critical' : NEW_SEVERITY[category],
      current: count,
      message: `new ${label} ${describeKey(category, key, current)} (${count}×)${shell ? ': a shell the baseline never spawned' : ''}`,
    });
  }
  for (const [key, count] of base) {
    if (now.has(key) || unstable.has(key)) continue;
    out.push({
      kind: 'missing',
      drift: 'schema',
      category,
      key,
      severity: MISSING_SEVERITY[category],
      baseline: count,
      current: 0,
      message: `${label} ${describeKey(category, key, baseline)} is gone (baseline ${count}×)`,
    });
  }
  if (category === 'binaries_spawned') out.push(...parentDrift(baseline, current, unstable));

  const tolerance = tolerances.counts[category];
  const perSecond = rateBasis(baseline, current, tolerances) === 'rate';
  for (const [key, count] of now) {
    const baseCount = base.get(key);
    if (baseCount === undefined) continue;
    if (Math.max(count, baseCount) < tolerances.min_count) continue;
    const b = perSecond ? baseCount / Math.max(baseline.duration_s, 1e-9) : baseCount;
    const c = perSecond ? count / Math.max(current.duration_s, 1e-9) : count;
    if (b === 0) continue;
    const change = (c - b) / b;
    if (Math.abs(change) <= tolerance) continue;
    const magnitude = Math.abs(change) / Math.max(tolerance, 1e-9);
    out.push({
      kind: change > 0 ? 'rate_up' : 'rate_down',
      drift: 'rate',
      category,
      key,
      severity: magnitude > 5 ? 'high' : magnitude > 2 ? 'medium' : 'low',
      baseline: round(b),
      current: round(c),
      change: round(change),
      tolerance,
      message: `${label} ${describeKey(category, key, current)}: ${perSecond ? `${round(b)}/s → ${round(c)}/s` : `${baseCount} → ${count}`} (${signedPercent(change)}, tolerance ±${percent(tolerance)})`,
    });
  }
  return out;
}

/** Resolves `auto`: per second when a capture was cut by its duration limit, per run otherwise. */
export function rateBasis(baseline: Fingerprint, current: Fingerprint, tolerances: Tolerances): 'count' | 'rate' {
  if (tolerances.rate_basis !== 'auto') return tolerances.rate_basis;
  return baseline.capture.stopped_by === 'duration' || current.capture.stopped_by === 'duration' ? 'rate' : 'count';
}

/** A known binary spawned by a parent it never had (a shell started from the web server, say). */
function parentDrift(baseline: Fingerprint, current: Fingerprint, unstable: ReadonlySet<string>): Deviation[] {
  const baseParents = new Map(baseline.binaries_spawned.map((b) => [b.path, new Set(b.parents)]));
  const out: Deviation[] = [];
  for (const binary of current.binaries_spawned) {
    const known = baseParents.get(binary.path);
    if (!known || unstable.has(binary.path)) continue;
    for (const parent of binary.parents) {
      if (known.has(parent)) continue;
      const shell = SHELL_BINARIES.has(binary.path.slice(binary.path.lastIndexOf('/') + 1));
      out.push({
        kind: 'new',
        drift: 'schema',
        category: 'binaries_spawned',
        key: `${binary.path} <- ${parent}`,
        severity: shell ? 'high' : 'medium',
        message: `${binary.path} spawned by ${parent}, which never spawned it in the baseline`,
      });
    }
  }
  return out;
}

function pathDrift(category: SectionName, baseline: readonly string[], current: readonly string[], unstable: readonly string[]): Deviation[] {
  const out: Deviation[] = [];
  const ignore = new Set(unstable);
  const what = category === 'filesystem_paths_modified' ? 'modified path' : 'read path';
  for (const pattern of current) {
    if (ignore.has(pattern) || isCoveredBy(pattern, baseline)) continue;
    out.push({ kind: 'new', drift: 'schema', category, key: pattern, severity: NEW_SEVERITY[category], message: `new ${what} ${pattern}` });
  }
  for (const pattern of baseline) {
    if (ignore.has(pattern) || isCoveredBy(pattern, current)) continue;
    out.push({
      kind: 'missing',
      drift: 'schema',
      category,
      key: pattern,
      severity: MISSING_SEVERITY[category],
      message: `${what} ${pattern} no longer touched`,
    });
  }
  return out;
}

function latencyDrift(baseline: Fingerprint, current: Fingerprint, tolerances: Tolerances): Deviation[] {
  const out: Deviation[] = [];
  for (const [func, p99] of Object.entries(current.kfunc_latency_p99_us)) {
    const base = baseline.kfunc_latency_p99_us[func];
    if (base === undefined || base === 0) continue;
    const calls = Math.min(baseline.kfunc_calls[func] ?? 0, current.kfunc_calls[func] ?? 0);
    if (calls < tolerances.min_kfunc_calls) continue;
    const change = (p99 - base) / base;
    if (Math.abs(change) <= tolerances.latency) continue;
    const magnitude = Math.abs(change) / Math.max(tolerances.latency, 1e-9);
    out.push({
      kind: change > 0 ? 'latency_up' : 'latency_down',
      drift: 'latency',
      category: 'kfunc_latency_p99_us',
      key: func,
      // Slower is the regression; faster is worth a look but rarely a page.
      severity: change > 0 ? (magnitude > 5 ? 'high' : magnitude > 2 ? 'medium' : 'low') : 'low',
      baseline: base,
      current: p99,
      change: round(change),
      tolerance: tolerances.latency,
      message: `${func} p99 ${base} µs → ${p99} µs (${signedPercent(change)}, tolerance ±${percent(tolerances.latency)})`,
    });
  }
  return out;
}

const LABEL: Record<CountCategory, string> = {
  syscalls: 'syscall',
  binaries_spawned: 'binary',
  ioctl_codes: 'ioctl',
  network_destinations: 'destination',
};

function describeKey(category: CountCategory, key: string, fp: Fingerprint): string {
  if (category === 'ioctl_codes') {
    const name = fp.ioctl_codes[key]?.name;
    return name ? `${key} (${name})` : key;
  }
  return key;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function percent(value: number): string {
  return `${Math.round(value * 1000) / 10}%`;
}

function signedPercent(value: number): string {
  return `${value >= 0 ? '+' : ''}${percent(value)}`;
}
