import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { RESULTS_STORE } from '../datasources.js';
import { RUNS_BY_OUTCOME, TEST_DURATION_P95, TEST_RESULTS_RATE } from '../queries/prometheus.js';
import { durationDriftQuery, passRateTrendQuery } from '../queries/results-store.js';
import type { SqlDialect } from '../queries/results-store.js';
import { SqlQueryBuilder } from '../sql-query.js';
import { at, promTimeseries } from './panels.js';

export const TREND_UID = 'zfslab-trend';

export function trendDashboard(dialect: SqlDialect): Dashboard {
  const trend = passRateTrendQuery(dialect);
  const drift = durationDriftQuery();
  return new DashboardBuilder('zfslab / Pass-rate trend')
    .uid(TREND_UID)
    .tags(['zfslab', 'results'])
    .time({ from: 'now-90d', to: 'now' })
    .refresh('5m')
    .withPanel(
      new TimeseriesBuilder()
        .title(trend.panel)
        .datasource(RESULTS_STORE)
        .unit('percentunit')
        .min(0)
        .max(1)
        .gridPos(at(0, 0, 24, 10))
        .withTarget(new SqlQueryBuilder(RESULTS_STORE, trend.sql, 'time_series').refId('A')),
    )
    .withPanel(
      new TableBuilder()
        .title(drift.panel)
        .datasource(RESULTS_STORE)
        .gridPos(at(0, 10, 24, 10))
        .withTarget(new SqlQueryBuilder(RESULTS_STORE, drift.sql).refId('A'))
        .overrideByName('ratio', [{ id: 'unit', value: 'x' }])
        .overrideByName('latest_seconds', [{ id: 'unit', value: 's' }])
        .overrideByName('mean_seconds', [{ id: 'unit', value: 's' }]),
    )
    .withPanel(promTimeseries(TEST_RESULTS_RATE, 'short', at(0, 20, 8, 8)))
    .withPanel(promTimeseries(TEST_DURATION_P95, 's', at(8, 20, 8, 8)))
    .withPanel(promTimeseries(RUNS_BY_OUTCOME, 'short', at(16, 20, 8, 8)))
    .build();
}
