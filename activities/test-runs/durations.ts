import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromRows, parseDurationTable } from '../../core/shard/durations.js';
import type { DurationHistory } from '../../core/shard/durations.js';
import { projectRoot } from '../../lib/paths.js';
import type { ResultsStore } from '../../lib/store/store.js';

/** The shipped table: one real upstream CI run (core/shard/data/README.md). */
export const SHIPPED_DURATIONS = join(projectRoot, 'core', 'shard', 'data', 'zts-durations-2023-03-ubuntu22.tsv');
const SHIPPED_LABEL = 'upstream CI 2023-03 (KVM)';

let shipped: DurationHistory | undefined;

export function shippedHistory(path = SHIPPED_DURATIONS): DurationHistory {
  if (path !== SHIPPED_DURATIONS) return historyFromRows(parseDurationTable(readFileSync(path, 'utf8'), path));
  shipped ??= historyFromRows(parseDurationTable(readFileSync(path, 'utf8'), path));
  return shipped;
}

/** Mean seconds per script of one flavor in our own results (infrastructure-spoiled results left out). */
export async function storedHistory(store: ResultsStore, flavorId: string): Promise<DurationHistory> {
  const rows = await store.db
    .selectFrom('test_results')
    .select((eb) => ['test_id', eb.fn.avg<number | string>('duration_seconds').as('seconds')])
    .where('flavor_id', '=', flavorId)
    .where('infra_error', 'is', null)
    .where('kind', '!=', 'failsafe')
    .groupBy('test_id')
    .execute();
  const history: Record<string, number> = {};
  for (const row of rows) {
    const seconds = Number(row.seconds);
    if (Number.isFinite(seconds)) history[row.test_id] = seconds;
  }
  return history;
}

/**
 * What the planner balances by: the shipped table, overlaid test by test with what this flavor really
 * took in our own runs (our lab, our speed). Both are seconds; where our runs are slower (TCG), the
 * tests we measured weigh more, which is right for balancing the rest of this flavor's suite.
 */
export async function planningHistory(store: ResultsStore | undefined, flavorId: string): Promise<{ history: DurationHistory; source: string }> {
  const base = shippedHistory();
  const ours = store ? await storedHistory(store, flavorId) : {};
  const count = Object.keys(ours).length;
  return {
    history: { ...base, ...ours },
    source: count > 0 ? `${SHIPPED_LABEL} + ${count} scripts from our runs of ${flavorId}` : SHIPPED_LABEL,
  };
}

/**
 * Every recorded running time of each script of one flavor that ended on its own (PASS, FAIL, SKIP:
 * a KILLED script's time is its old timeout, not its duration), for the timeout rule (core/test-run/timeouts.ts).
 */
export async function storedSamples(store: ResultsStore, flavorId: string): Promise<Record<string, number[]>> {
  const rows = await store.db
    .selectFrom('test_results')
    .select(['test_id', 'duration_seconds'])
    .where('flavor_id', '=', flavorId)
    .where('infra_error', 'is', null)
    .where('kind', '!=', 'failsafe')
    .where('outcome', 'in', ['PASS', 'FAIL', 'SKIP'])
    .execute();
  const samples: Record<string, number[]> = {};
  for (const row of rows) {
    const seconds = Number(row.duration_seconds);
    if (Number.isFinite(seconds)) (samples[row.test_id] ??= []).push(seconds);
  }
  return samples;
}
