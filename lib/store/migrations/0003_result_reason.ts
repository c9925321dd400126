import type { Kysely } from 'kysely';

/** The baseline's reason for an expected or flaky result (`Known issue`, …), beside its issue URL. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('test_results').addColumn('reason', 'text').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('test_results').dropColumn('reason').execute();
}
