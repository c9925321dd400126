import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { arcDashboard } from './boards/arc.js';
import { auditDashboard } from './boards/audit.js';
import { matrixDashboard } from './boards/matrix.js';
import { replicationDashboard } from './boards/replication.js';
import { trendDashboard } from './boards/trend.js';
import { zioLatencyDashboard } from './boards/zio-latency.js';
import type { SqlDialect } from './queries/results-store.js';

/** The six dashboards, by the file name each is provisioned from. `dialect` is the results store's. */
export function allDashboards(dialect: SqlDialect = 'postgres'): Record<string, Dashboard> {
  return {
    'matrix.json': matrixDashboard(),
    'trend.json': trendDashboard(dialect),
    'zio-latency.json': zioLatencyDashboard(),
    'arc.json': arcDashboard(),
    'replication.json': replicationDashboard(),
    'audit.json': auditDashboard(),
  };
}

/** A dashboard as the files under dashboards/json hold it. */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
