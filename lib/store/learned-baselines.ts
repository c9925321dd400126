import type { Kysely } from 'kysely';
import { z } from 'zod';
import { seriesOf } from '../../core/baselines/index.js';
import { expiryDue, learnedStats, LearnedEntrySchema, type LearnedEntry, type LearnedStats, type Observation } from '../../core/baselines/learned.js';
import type { LearnedBaselinesTable, StoreDatabase } from './schema.js';

/** One flavor and OpenZFS series: a learned baseline's scope. */
export const BaselineScopeSchema = z.strictObject({
  flavorId: z.string().min(1),
  series: z.string().regex(/^\d+\.\d+$/, 'an OpenZFS series such as 2.3'),
});
export type BaselineScope = z.infer<typeof BaselineScopeSchema>;

export interface TestHistory {
  testId: string;
  /** Oldest first. */
  observations: Observation[];
  /** Observed runs where the failure was not excused by any baseline (class regression or flaky). */
  unexcusedFailures: number;
  stats: LearnedStats;
}

/** Runs of a scope looked at, by default: the newest 50. */
const DEFAULT_WINDOW = 50;

/**
 * The learned baselines in the results store's `learned_baselines` table, and the history they are
 * learned from: results of one flavor in runs whose recorded OpenZFS version (run_flavors) is of the
 * scope's series. Decisions (stats, expiry) are core/baselines/learned.ts's.
 */
export class LearnedBaselines {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /** Adds or replaces entries; accepting an expired entry again revives it. */
  async accept(entries: readonly LearnedEntry[]): Promise<void> {
    for (const raw of entries) {
      const e = LearnedEntrySchema.parse(raw);
      const row = {
        flavor_id: e.flavorId,
        series: e.series,
        test_id: e.testId,
        outcome: e.outcome,
        list: e.list,
        reason: e.reason,
        accepted_at: e.acceptedAt,
        accepted_by: e.acceptedBy,
        expired_at: null,
        expired_why: null,
      };
      await this.db
        .insertInto('learned_baselines')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['flavor_id', 'series', 'test_id']).doUpdateSet({
            outcome: row.outcome,
            list: row.list,
            reason: row.reason,
            accepted_at: row.accepted_at,
            accepted_by: row.accepted_by,
            expired_at: null,
            expired_why: null,
          }),
        )
        .execute();
    }
  }

  /** Entries, active ones first, by flavor, series and test; expired ones only when asked. */
  async list(options: { flavorId?: string; series?: string; includeExpired?: boolean } = {}): Promise<LearnedEntry[]> {
    let query = this.db.selectFrom('learned_baselines').selectAll();
    if (options.flavorId !== undefined) query = query.where('flavor_id', '=', options.flavorId);
    if (options.series !== undefined) query = query.where('series', '=', options.series);
    if (!options.includeExpired) query = query.where('expired_at', 'is', null);
    const rows = await query.orderBy('flavor_id').orderBy('series').orderBy('test_id').execute();
    return rows.map(entryOf).sort((a, b) => Number(a.expiredAt !== undefined) - Number(b.expiredAt !== undefined));
  }

  /** Ends entries now, with why; returns how many were active. */
  async expire(keys: readonly (BaselineScope & { testId: string })[], at: string, why: string): Promise<number> {
    let count = 0;
    for (const key of keys) {
      const { numUpdatedRows } = await this.db
        .updateTable('learned_baselines')
        .set({ expired_at: at, expired_why: why })
        .where((eb) => eb.and({ flavor_id: key.flavorId, series: key.series, test_id: key.testId, expired_at: null }))
        .executeTakeFirst();
      count += Number(numUpdatedRows);
    }
    return count;
  }

  /**
   * Expires the scope's active entries whose test has gone `expireAfterRuns` runs in a row without
   * failing since it was accepted; returns them (with why).
   */
  async expireDue(scope: BaselineScope, expireAfterRuns: number, now: string): Promise<LearnedEntry[]> {
    const active = await this.list(scope);
    if (active.length === 0) return [];
    const histories = await this.history(scope, { testIds: active.map((e) => e.testId) });
    const expired: LearnedEntry[] = [];
    for (const entry of active) {
      const why = expiryDue(entry, histories.get(entry.testId)?.observations ?? [], expireAfterRuns);
      if (why === undefined) continue;
      await this.expire([{ ...scope, testId: entry.testId }], now, why);
      expired.push({ ...entry, expiredAt: now, expiredWhy: why });
    }
    return expired;
  }

  /**
   * Each test's verdicts over the scope's newest `lastRuns` runs (oldest first), for the tests asked
   * for, or for every test that failed at least once in the window.
   */
  async history(scope: BaselineScope, options: { testIds?: readonly string[]; lastRuns?: number } = {}): Promise<Map<string, TestHistory>> {
    const runs = await this.db
      .selectFrom('run_flavors as rf')
      .innerJoin('runs', 'runs.id', 'rf.run_id')
      .select(['rf.run_id as runId', 'runs.started_at as startedAt', 'rf.openzfs_version as version'])
      .where('rf.flavor_id', '=', scope.flavorId)
      .orderBy('runs.started_at', 'desc')
      .orderBy('rf.run_id', 'desc')
      .execute();
    const window = runs.filter((r) => seriesOf(r.version) === scope.series).slice(0, options.lastRuns ?? DEFAULT_WINDOW);
    const out = new Map<string, TestHistory>();
    if (window.length === 0 || options.testIds?.length === 0) return out;
    const startedAt = new Map(window.map((r) => [r.runId, r.startedAt]));
    let query = this.db
      .selectFrom('test_results')
      .select(['run_id', 'test_id', 'outcome', 'infra_error', 'result_class'])
      .where('flavor_id', '=', scope.flavorId)
      .where('kind', '=', 'test')
      .where(
        'run_id',
        'in',
        window.map((r) => r.runId),
      );
    if (options.testIds !== undefined) query = query.where('test_id', 'in', [...options.testIds]);
    const rows = await query.execute();
    const perTest = new Map<string, { observations: Observation[]; unexcused: number }>();
    for (const row of rows) {
      if (row.infra_error !== null || row.outcome === 'SKIP' || row.outcome === 'CRASH') continue;
      const entry = perTest.get(row.test_id) ?? { observations: [], unexcused: 0 };
      const state = row.outcome === 'PASS' ? 'pass' : 'fail';
      entry.observations.push({ runId: row.run_id, startedAt: startedAt.get(row.run_id) ?? '', state, outcome: row.outcome });
      if (row.result_class === 'regression' || row.result_class === 'flaky') entry.unexcused++;
      perTest.set(row.test_id, entry);
    }
    for (const [testId, { observations, unexcused }] of perTest) {
      observations.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
      const stats = learnedStats(observations);
      if (options.testIds === undefined && stats.failures === 0) continue;
      out.set(testId, { testId, observations, unexcusedFailures: unexcused, stats });
    }
    return out;
  }

  /** The series of the newest run of a flavor that recorded its OpenZFS version. */
  async newestSeries(flavorId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('run_flavors as rf')
      .innerJoin('runs', 'runs.id', 'rf.run_id')
      .select('rf.openzfs_version as version')
      .where('rf.flavor_id', '=', flavorId)
      .orderBy('runs.started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? seriesOf(row.version) : undefined;
  }
}

function entryOf(row: LearnedBaselinesTable): LearnedEntry {
  return LearnedEntrySchema.parse({
    flavorId: row.flavor_id,
    series: row.series,
    testId: row.test_id,
    outcome: row.outcome,
    list: row.list,
    reason: row.reason,
    acceptedAt: row.accepted_at,
    acceptedBy: row.accepted_by,
    ...(row.expired_at !== null ? { expiredAt: row.expired_at } : {}),
    ...(row.expired_why !== null ? { expiredWhy: row.expired_why } : {}),
  });
}
