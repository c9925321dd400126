import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from '../../setup/postgres.js';

describe('throwaway PostgreSQL cluster', () => {
  it('starts a real server on 127.0.0.1, creates a database, and is gone after stop()', async () => {
    const server = await startPostgres();
    let stopped = false;
    try {
      const url = await server.createDatabase('setup_check');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ version: string; db: string }>('select version() as version, current_database() as db');
      await client.end();
      expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
      expect(rows[0]?.db).toBe('setup_check');
      expect(existsSync(server.dataDir)).toBe(true);
      await server.stop();
      stopped = true;
      expect(existsSync(server.dataDir)).toBe(false);
      const late = new pg.Client({ connectionString: server.url(), connectionTimeoutMillis: 2000 });
      await expect(late.connect()).rejects.toThrow();
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
