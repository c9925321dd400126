import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../setup/postgres.js';
import type { StartedPostgres } from '../../setup/postgres.js';

/**
 * The two engines the store suites run against: a SQLite file in a temp dir (the unit project), and
 * a real PostgreSQL server, a throwaway cluster per suite (the integration project: it needs the
 * PostgreSQL binaries and starts a server). `freshUrl()` gives an empty database.
 */
export interface StoreEngine {
  name: 'sqlite' | 'postgres';
  start(): Promise<void>;
  freshUrl(): Promise<string>;
  stop(): Promise<void>;
}

export function sqliteEngine(): StoreEngine {
  let dir: string | undefined;
  let n = 0;
  return {
    name: 'sqlite',
    async start() {
      dir = mkdtempSync(join(tmpdir(), 'zfslab-store-'));
    },
    async freshUrl() {
      if (dir === undefined) throw new Error('sqlite engine not started');
      return `sqlite:${join(dir, `store-${++n}.db`)}`;
    },
    async stop() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresEngine(): StoreEngine {
  let server: StartedPostgres | undefined;
  let n = 0;
  return {
    name: 'postgres',
    async start() {
      server = await startPostgres();
    },
    async freshUrl() {
      if (server === undefined) throw new Error('postgres engine not started');
      return server.createDatabase(`store_${++n}`);
    },
    async stop() {
      await server?.stop();
    },
  };
}
