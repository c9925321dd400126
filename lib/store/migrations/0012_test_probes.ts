import type { Kysely } from 'kysely';

/**
 * What the in-guest probes saw while each script of a run ran (core/probes/summary.ts): one row per
 * script, probe and series (zio type, pool, or '' for the ARC and the SPL), with its count and
 * percentiles as columns (queryable: dashboards, `zfslab show`) and the detail as JSON (histogram
 * buckets, per-window buckets for a heatmap, the ARC's sizes).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('test_probes')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('test_id', 'text', (c) => c.notNull())
    .addColumn('probe', 'text', (c) => c.notNull())
    .addColumn('series', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addColumn('p50_seconds', 'double precision')
    .addColumn('p95_seconds', 'double precision')
    .addColumn('p99_seconds', 'double precision')
    .addColumn('max_seconds', 'double precision')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('test_probes_pk', ['run_id', 'flavor_id', 'test_id', 'probe', 'series'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('test_probes').execute();
}
