import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import type { Logger } from '../log.js';
import { LATEST_MIGRATION } from './migrations/index.js';
import { migrateStore } from './migrate.js';
import type { StoreDatabase } from './schema.js';
import { ResultsStore } from './store.js';
import type { StoreDialect } from './store.js';

export interface StoreLocation {
  dialect: StoreDialect;
  /** SQLite: an absolute file path or `:memory:`. PostgreSQL: the connection string. */
  target: string;
}

/**
 * Reads a store URL: `sqlite:/abs/file.db`, `sqlite:relative/file.db` (against `cwd`),
 * `sqlite::memory:`, or `postgres://user@host:port/db` (`postgresql://` too).
 */
export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', target: url };
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (sqlite?.[1] !== undefined) {
    const path = sqlite[1];
    return { dialect: 'sqlite', target: path === ':memory:' ? path : resolve(cwd, path) };
  }
  throw new UsageError(`results store URL ${JSON.stringify(url)}: expected sqlite:/path/file.db, sqlite::memory: or postgres://user@host:port/db`);
}

export interface OpenStoreOptions {
  /** Apply pending migrations (default true). Set `migrateTo` to stop at an older one (tests, rollbacks). */
  migrate?: boolean;
  migrateTo?: string;
  logger?: Logger;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
}

/** Opens (and by default migrates) the results store a URL names. Call `close()` when done. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ResultsStore> {
  const location = parseStoreUrl(url);
  const log = options.logger ?? createLogger('results-store');
  const db = location.dialect === 'sqlite' ? openSqlite(location.target) : openPostgres(location.target, options.poolSize ?? 4);
  try {
    if (options.migrate ?? true) {
      const applied = await migrateStore(db, options.migrateTo ?? LATEST_MIGRATION);
      if (applied.length > 0) log.info({ dialect: location.dialect, applied }, 'results store migrated');
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new ResultsStore(db, location.dialect, log);
}

function openSqlite(path: string): Kysely<StoreDatabase> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path);
  // WAL lets the CLI read while the coordinator writes; foreign keys are off by default in SQLite.
  if (path !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres(connectionString: string, max: number): Kysely<StoreDatabase> {
  return new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString, max }) }) });
}
