import type { Kysely } from 'kysely';

/**
 * First schema: runs, the flavor catalog, hosts, what each run's flavors ran on, and one row per
 * executed script. Written with Kysely's schema builder only, so it runs unchanged on SQLite and
 * PostgreSQL. Takes `Kysely<any>` on purpose: a migration must not depend on today's types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text')
    .addColumn('selection', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('runs_started_at').on('runs').column('started_at').execute();

  await db.schema
    .createTable('flavors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('release', 'text', (c) => c.notNull())
    .addColumn('kernel', 'text', (c) => c.notNull())
    .addColumn('openzfs_version', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('hosts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('capabilities', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('run_flavors')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('flavor_id', 'text', (c) => c.notNull().references('flavors.id'))
    .addColumn('host_id', 'text', (c) => c.references('hosts.id'))
    .addColumn('kernel', 'text', (c) => c.notNull())
    .addColumn('openzfs_version', 'text', (c) => c.notNull())
    .addColumn('shard_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addPrimaryKeyConstraint('run_flavors_pk', ['run_id', 'flavor_id'])
    .execute();

  await db.schema
    .createTable('test_results')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('flavor_id', 'text', (c) => c.notNull().references('flavors.id'))
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('test_id', 'text', (c) => c.notNull())
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    // Part of the key: a full run has a group's setup/cleanup twice, once for its common.run section
    // and once for its linux.run `[...:Linux]` section (e.g. functional/atime/setup in upstream CI).
    .addColumn('linux_section', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reran', 'integer', (c) => c.notNull())
    .addColumn('duration_seconds', 'double precision', (c) => c.notNull())
    .addColumn('classification', 'text', (c) => c.notNull())
    .addColumn('issue_url', 'text')
    .addColumn('logged_at', 'text')
    .addPrimaryKeyConstraint('test_results_pk', ['run_id', 'flavor_id', 'test_id', 'kind', 'linux_section'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['test_results', 'run_flavors', 'hosts', 'flavors', 'runs']) {
    await db.schema.dropTable(table).execute();
  }
}
