import type { Kysely } from 'kysely';

/**
 * Baseline entries a lab learned on top of upstream's zts-report tables (core/baselines/learned.ts):
 * one per flavor, OpenZFS release series and test, accepted by someone for a reason, until it
 * expires (`expired_at`, with why). Re-accepting an expired entry revives the same row.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learned_baselines')
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('series', 'text', (c) => c.notNull())
    .addColumn('test_id', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('list', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('accepted_at', 'text', (c) => c.notNull())
    .addColumn('accepted_by', 'text', (c) => c.notNull())
    .addColumn('expired_at', 'text')
    .addColumn('expired_why', 'text')
    .addPrimaryKeyConstraint('learned_baselines_pk', ['flavor_id', 'series', 'test_id'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('learned_baselines').execute();
}
