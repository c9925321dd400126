import type { Kysely } from 'kysely';

/**
 * The `hosts` table becomes the fleet's one host registry: beside the proven capabilities (a JSON
 * array, filled from the host's probe), what placement needs to know (CPUs, RAM, VM slots, goldens
 * present, tags: `facts`), when it was last probed, and its health (state, and the whole record
 * with who/why/when of the last transition). Rows written before this migration are `unknown`.
 * `run_skipped_targets` keeps the flavors a `test all` run left out because no host could run them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('facts', 'text').execute();
  await db.schema.alterTable('hosts').addColumn('probed_at', 'text').execute();
  await db.schema
    .alterTable('hosts')
    .addColumn('health_state', 'text', (c) => c.notNull().defaultTo('unknown'))
    .execute();
  await db.schema.alterTable('hosts').addColumn('health', 'text').execute();
  await db.schema
    .createTable('host_health_transitions')
    .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('by', 'text', (c) => c.notNull())
    .addColumn('why', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('host_health_transitions_host_at').on('host_health_transitions').columns(['host_id', 'at']).execute();
  await db.schema
    .createTable('run_skipped_targets')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_skipped_targets_pk', ['run_id', 'flavor_id'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('run_skipped_targets').execute();
  await db.schema.dropTable('host_health_transitions').execute();
  for (const column of ['health', 'health_state', 'probed_at', 'facts']) await db.schema.alterTable('hosts').dropColumn(column).execute();
}
