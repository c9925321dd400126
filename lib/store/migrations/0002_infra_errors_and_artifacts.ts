import type { Kysely } from 'kysely';

/**
 * Keeps infrastructure failures apart from test failures per result (a KILLED test whose VM died
 * is not the test's fault), records where each run's artifacts went in S3, and indexes the
 * history queries' access path (one test on one flavor across runs).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('test_results').addColumn('infra_error', 'text').execute();
  await db.schema.createIndex('test_results_flavor_test').on('test_results').columns(['flavor_id', 'test_id']).execute();

  await db.schema
    .createTable('artifact_keys')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('s3_key', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint')
    .addPrimaryKeyConstraint('artifact_keys_pk', ['run_id', 'flavor_id', 'shard', 'name'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('artifact_keys').execute();
  await db.schema.dropIndex('test_results_flavor_test').execute();
  await db.schema.alterTable('test_results').dropColumn('infra_error').execute();
}
