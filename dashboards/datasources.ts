import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';

/**
 * The two datasources every dashboard reads, by the fixed uids that provisioning/datasources gives
 * them: the results store (PostgreSQL in the fleet stack) and Prometheus (the workers' exporters).
 */
export const RESULTS_STORE: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'zfslab-results' };
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'zfslab-prometheus' };
