import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Every non-passing result gets a class (regression, flaky, known, crash, infra: core/results/result-class.ts)
 * and the outcomes of its re-runs, comma-separated, oldest first (`''`: not re-run). Rows written before
 * re-runs existed are classed from what they hold: an unexpected failure that was never re-run is a regression.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('test_results').addColumn('result_class', 'text').execute();
  await db.schema
    .alterTable('test_results')
    .addColumn('reruns', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`
    UPDATE test_results SET result_class = CASE
      WHEN outcome IN ('PASS', 'SKIP') THEN NULL
      WHEN outcome = 'CRASH' THEN 'crash'
      WHEN infra_error IS NOT NULL THEN 'infra'
      WHEN classification IN ('expected-fail', 'flaky') THEN 'known'
      ELSE 'regression' END`.execute(db);
  await db.schema.createIndex('test_results_class').on('test_results').columns(['flavor_id', 'result_class']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('test_results_class').execute();
  await db.schema.alterTable('test_results').dropColumn('reruns').execute();
  await db.schema.alterTable('test_results').dropColumn('result_class').execute();
}
