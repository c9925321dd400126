import type { RunfileDocument } from '../runfile/document.js';
import { setOption } from '../runfile/edit.js';
import { testIdOf } from '../runfile/ids.js';
import { resolveRunfiles } from '../runfile/resolve.js';

/**
 * Per-test timeouts that fit the host. Upstream's runfiles carry fixed timeouts (600 s by default)
 * chosen for KVM-speed CI runners: under TCG a long test that is merely slow gets killed, while on
 * KVM a hung test is noticed only after many times its usual running time. Here a test's bound is
 * `clamp(k × p95, floor, ceiling)`, where the p95 comes from this flavor's own durations on this
 * accelerator when there are any, else from the reference (KVM) table scaled by the host's speed
 * factor, else from the runfile's own timeout scaled the same way.
 */

export type SpeedClass = 'kvm' | 'tcg';

export interface TimeoutPolicy {
  /** How many times its p95 a test may run before it counts as hung. */
  multiplier: number;
  floorSeconds: number;
  ceilingSeconds: number;
  /** How much slower than the reference (KVM CI) table this host runs a test, when it has no history of its own. */
  speedFactor: number;
}

/**
 * Defaults per accelerator (README "Timeouts that fit the host" has the figures behind them). The
 * TCG floor covers a setup script that takes 0 s in the reference table and 24–42 s in our clones.
 */
export const DEFAULT_TIMEOUT_POLICY: Readonly<Record<SpeedClass, TimeoutPolicy>> = {
  kvm: { multiplier: 10, floorSeconds: 60, ceilingSeconds: 3 * 3600, speedFactor: 1 },
  tcg: { multiplier: 10, floorSeconds: 300, ceilingSeconds: 6 * 3600, speedFactor: 20 },
};

export interface TimeoutHistory {
  /** Seconds per run of each test on this flavor and accelerator (our own results). */
  own: Readonly<Record<string, readonly number[]>>;
  /** Seconds per test in the reference table (KVM). */
  reference: Readonly<Record<string, number>>;
}

export type TimeoutBasis = 'own' | 'reference' | 'runfile';

export interface TestTimeout {
  testId: string;
  seconds: number;
  basis: TimeoutBasis;
}

/** The 95th percentile by nearest rank; NaN for no samples. */
export function p95(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil(0.95 * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

export function clamp(value: number, floor: number, ceiling: number): number {
  return Math.min(ceiling, Math.max(floor, value));
}

export function validatePolicy(policy: TimeoutPolicy): TimeoutPolicy {
  const positive = (name: keyof TimeoutPolicy): void => {
    if (!Number.isFinite(policy[name]) || policy[name] <= 0) throw new RangeError(`timeout policy ${name} must be a positive number, got ${policy[name]}`);
  };
  (['multiplier', 'floorSeconds', 'ceilingSeconds', 'speedFactor'] as const).forEach(positive);
  if (policy.floorSeconds > policy.ceilingSeconds)
    throw new RangeError(`timeout floor ${policy.floorSeconds} s is above the ceiling ${policy.ceilingSeconds} s`);
  return policy;
}

/** One test's bound; `runfileSeconds` is the timeout its section gives it today. */
export function testTimeout(testId: string, runfileSeconds: number, history: TimeoutHistory, policy: TimeoutPolicy): TestTimeout {
  const own = history.own[testId];
  if (own && own.length > 0) return { testId, seconds: bound(policy.multiplier * p95(own), policy), basis: 'own' };
  const reference = history.reference[testId];
  // The reference table has whole seconds, so a quick test reads 0: the floor then decides.
  if (reference !== undefined) return { testId, seconds: bound(policy.multiplier * reference * policy.speedFactor, policy), basis: 'reference' };
  return { testId, seconds: bound(runfileSeconds * policy.speedFactor, policy), basis: 'runfile' };
}

function bound(seconds: number, policy: TimeoutPolicy): number {
  return Math.ceil(clamp(seconds, policy.floorSeconds, policy.ceilingSeconds));
}

export interface AppliedTimeouts {
  doc: RunfileDocument;
  tests: TestTimeout[];
  /** Section name → the timeout written into it. */
  sections: Record<string, number>;
}

/**
 * Writes the bounds into the runfile. The runner's timeout is a section's, applied to each of its
 * tests (setup and cleanup included), so a section gets the largest bound among its scripts.
 */
export function applyTimeouts(doc: RunfileDocument, history: TimeoutHistory, policy: TimeoutPolicy): AppliedTimeouts {
  validatePolicy(policy);
  const tests: TestTimeout[] = [];
  const sections: Record<string, number> = {};
  let out = doc;
  for (const section of resolveRunfiles([doc]).sections) {
    const scripts = [...section.testIds, ...[section.pre, section.post].filter((s) => s !== '').map((s) => testIdOf(section.groupId, s))];
    const bounds = scripts.map((id) => testTimeout(id, section.timeoutSeconds, history, policy));
    tests.push(...bounds.filter((b) => section.testIds.includes(b.testId)));
    const seconds = Math.max(...bounds.map((b) => b.seconds));
    sections[section.section] = seconds;
    if (seconds !== section.timeoutSeconds) out = setOption(out, section.section, 'timeout', String(seconds));
  }
  return { doc: out, tests, sections };
}
