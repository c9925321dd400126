import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../../lib/store/index.js';
import { projectRoot } from '../../../lib/paths.js';
import { findPostgresBin, startPostgres } from '../../setup/postgres.js';
import { silentLogger, storeQueriesSuite } from '../../support/dashboards/store-queries-suite.js';

// The SQL panels on PostgreSQL set up exactly as the fleet stack's first start does: the init script
// docker-compose.yml mounts into the postgres image (infra/compose/results-store-init.sh) makes the
// results-store database and owner and Grafana's read-only role; zfslab migrates and writes as the
// owner, the panels read as Grafana.
storeQueriesSuite('PostgreSQL, as the fleet stack’s Grafana role', 'postgres', async () => {
  const server = await startPostgres();
  execFileSync('sh', [join(projectRoot, 'infra/compose/results-store-init.sh')], {
    env: {
      ...process.env,
      PATH: `${findPostgresBin()}:${process.env.PATH ?? ''}`,
      PGHOST: '127.0.0.1',
      PGPORT: String(server.port),
      POSTGRES_USER: 'postgres',
      ZFSLAB_STORE_PASSWORD: 'store-secret',
      ZFSLAB_GRAFANA_DB_PASSWORD: 'grafana-secret',
    },
    stdio: 'pipe',
  });
  const store = await openStore(`postgres://zfslab:store-secret@127.0.0.1:${server.port}/zfslab`, { logger: silentLogger });
  const grafana = new pg.Pool({ connectionString: `postgres://zfslab_grafana:grafana-secret@127.0.0.1:${server.port}/zfslab`, max: 1 });
  return {
    store,
    readOnly: true,
    query: async (text) => (await grafana.query(text)).rows as Record<string, unknown>[],
    close: async () => {
      await grafana.end();
      await store.close();
      await server.stop();
    },
  };
});
