import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../../lib/store/index.js';
import { silentLogger, storeQueriesSuite } from '../../support/dashboards/store-queries-suite.js';

// The SQL panels on the embedded default's store, a SQLite file (the Grafana SQLite datasource reads
// the same file). test/integration/dashboards runs them on PostgreSQL as Grafana's read-only role.
storeQueriesSuite('SQLite', 'sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-dashboards-'));
  const store = await openStore(`sqlite:${join(dir, 'results.db')}`, { logger: silentLogger });
  return {
    store,
    query: async (text) => (await sql.raw<Record<string, unknown>>(text).execute(store.db)).rows,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
