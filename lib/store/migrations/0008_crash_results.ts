import type { Kysely } from 'kysely';

/**
 * A test in flight when the guest kernel died is stored as outcome CRASH with what identifies the
 * crash: its kind (panic, oops, hung-task…), its signature (the same crash on two boots or flavors
 * shares it) and the S3 key of the console excerpt that shows it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('test_results').addColumn('crash_kind', 'text').execute();
  await db.schema.alterTable('test_results').addColumn('crash_signature', 'text').execute();
  await db.schema.alterTable('test_results').addColumn('crash_console_key', 'text').execute();
  await db.schema.createIndex('test_results_crash_signature').on('test_results').column('crash_signature').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('test_results_crash_signature').execute();
  await db.schema.alterTable('test_results').dropColumn('crash_console_key').execute();
  await db.schema.alterTable('test_results').dropColumn('crash_signature').execute();
  await db.schema.alterTable('test_results').dropColumn('crash_kind').execute();
}
