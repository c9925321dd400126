import type { Kysely } from 'kysely';

/**
 * Which golden a flavor of a run ran on (`debian13-ztest-d7e26597236798bc`): its suite is what the
 * plan was cut from and its clones ran the tests. Null for native targets and rows from before 0011.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_flavors').addColumn('golden', 'text').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_flavors').dropColumn('golden').execute();
}
