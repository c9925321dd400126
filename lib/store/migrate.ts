import { Migrator } from 'kysely';
import type { Kysely, MigrationResultSet } from 'kysely';
import { LATEST_MIGRATION, migrationProvider } from './migrations/index.js';

export class MigrationFailed extends Error {
  override name = 'MigrationFailed';
  constructor(
    readonly target: string,
    readonly results: MigrationResultSet['results'],
    override readonly cause: unknown,
  ) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)';
    super(`results store: migrating to ${target} failed at ${failed}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/**
 * Brings the schema to `target` (default: the latest migration) and returns the names applied.
 * Kysely's Migrator takes a lock table, so two workers opening one PostgreSQL store at once do
 * not both migrate.
 */
export async function migrateStore<DB>(db: Kysely<DB>, target: string = LATEST_MIGRATION): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateTo(target);
  if (error !== undefined) throw new MigrationFailed(target, results, error);
  return (results ?? []).filter((r) => r.status === 'Success' && r.direction === 'Up').map((r) => r.migrationName);
}

/** Names of the migrations already applied, oldest first. */
export async function appliedMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
