import { z } from 'zod';
import { baselineKey, type ClassifyBaseline, type ClassifyEntry } from './classify.js';
import type { Baseline } from './schema.js';

/**
 * Baselines learned from history, per flavor *and* OpenZFS release series. Upstream's zts-report
 * tables are the seed of each series (core/baselines/zts-*.json); what a lab learns on top is its
 * own: a test that fails on this flavor under this version for a reason someone accepted. An
 * accepted entry classes the failure `known` (not a regression, never re-run), and it is not forever:
 * once the test has been seen K runs in a row without failing, the entry drops out (kdevops keeps
 * its expunge lists by hand; here expiry is the default).
 */

/** Runs in a row without the failure after which an accepted entry expires (`baseline.expireAfterRuns`). */
export const DEFAULT_EXPIRE_AFTER_RUNS = 10;
export const ExpireAfterRunsSchema = z.number().int().min(1).max(1000);

export const LearnedListSchema = z.enum(['known', 'maybe']);

/** A test id as stored: `functional/<group>/<test>` (or perf/, stress/). */
export const LearnedTestIdSchema = z
  .string()
  .regex(/^(?:functional|perf|stress)\/[^\s]+\/[^/\s]+$/, 'a test id such as functional/cli_root/zpool_create/zpool_create_001_pos');

export const LearnedEntrySchema = z.strictObject({
  flavorId: z.string().min(1),
  /** OpenZFS release series, `major.minor`. */
  series: z.string().regex(/^\d+\.\d+$/, 'an OpenZFS series such as 2.3'),
  testId: LearnedTestIdSchema,
  /** The outcome the entry excuses: a KILLED test is excused only by an entry that says KILLED. */
  outcome: z.enum(['FAIL', 'KILLED']),
  /** `known`: fails every time; `maybe`: fails some of the time (flaky on this flavor). */
  list: LearnedListSchema,
  reason: z.string().trim().min(1, 'a reason (an issue URL, or why it is accepted)'),
  acceptedAt: z.iso.datetime({ offset: true }),
  acceptedBy: z.string().min(1),
  /** Set once the entry dropped out; an expired entry excuses nothing. */
  expiredAt: z.iso.datetime({ offset: true }).optional(),
  expiredWhy: z.string().optional(),
});
export type LearnedEntry = z.infer<typeof LearnedEntrySchema>;

/** The seed baseline of a series with the active learned entries of one flavor added. */
export function withLearned(seed: Baseline | undefined, learned: readonly LearnedEntry[]): ClassifyBaseline | undefined {
  const active = learned.filter((e) => e.expiredAt === undefined);
  if (active.length === 0) return seed;
  const extra: ClassifyEntry[] = active.map((e) => ({
    test: baselineKey(e.testId),
    list: e.list,
    expect: e.outcome,
    reason: `accepted on ${e.flavorId} (${e.acceptedAt.slice(0, 10)}): ${e.reason}`,
    platforms: ['linux'],
  }));
  return { entries: [...(seed?.entries ?? []), ...extra] };
}

/** One run's verdict on a test, as history evidence: skips and infrastructure errors are not evidence. */
export interface Observation {
  runId: string;
  startedAt: string;
  state: 'pass' | 'fail';
  /** FAIL or KILLED for a failure. */
  outcome: string;
}

export interface LearnedStats {
  observedRuns: number;
  failures: number;
  /** failures / observedRuns. */
  failRate: number;
  lastPass: Observation | undefined;
  lastFail: Observation | undefined;
  /** Where the current failing streak began; undefined when the newest observation passed. */
  firstFail: Observation | undefined;
  /** Observed runs since the newest failure (all of them when it never failed). */
  runsSinceLastFail: number;
  /** The outcome it fails with most (FAIL when it never failed). */
  usualFailure: 'FAIL' | 'KILLED';
}

/** What the history (oldest first) says about one test on one flavor and series. */
export function learnedStats(history: readonly Observation[]): LearnedStats {
  let lastPass: Observation | undefined;
  let lastFail: Observation | undefined;
  let firstFail: Observation | undefined;
  let failures = 0;
  let killed = 0;
  let since = 0;
  for (const o of history) {
    if (o.state === 'pass') {
      lastPass = o;
      firstFail = undefined;
      since++;
    } else {
      failures++;
      if (o.outcome === 'KILLED') killed++;
      lastFail = o;
      firstFail ??= o;
      since = 0;
    }
  }
  return {
    observedRuns: history.length,
    failures,
    failRate: history.length > 0 ? failures / history.length : 0,
    lastPass,
    lastFail,
    firstFail,
    runsSinceLastFail: since,
    usualFailure: killed > failures - killed ? 'KILLED' : 'FAIL',
  };
}

/** The list a candidate goes on when accepted without being told: `known` when it failed every observed run. */
export function suggestedList(stats: LearnedStats): z.infer<typeof LearnedListSchema> {
  return stats.failures > 0 && stats.failures === stats.observedRuns ? 'known' : 'maybe';
}

/**
 * Whether an active entry has dropped out: the test was observed `expireAfterRuns` runs in a row
 * without failing, counting only runs after the entry was accepted (history from before acceptance
 * is what made someone accept it).
 */
export function expiryDue(entry: LearnedEntry, history: readonly Observation[], expireAfterRuns: number): string | undefined {
  if (entry.expiredAt !== undefined) return undefined;
  let clean = 0;
  for (const o of history) {
    if (o.startedAt < entry.acceptedAt) continue;
    clean = o.state === 'pass' ? clean + 1 : 0;
  }
  return clean >= expireAfterRuns ? `not seen failing in ${clean} run(s) since it was accepted (expiry after ${expireAfterRuns})` : undefined;
}
