import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { CustomVariableBuilder, QueryVariableBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMETHEUS } from '../datasources.js';
import type { PromPanelQuery } from '../queries/prometheus.js';

/** Where a panel sits on Grafana's 24-column grid. */
export function at(x: number, y: number, w: number, h: number): { x: number; y: number; w: number; h: number } {
  return { x, y, w, h };
}

export function promTarget(query: PromPanelQuery): DataqueryBuilder {
  const target = new DataqueryBuilder().datasource(PROMETHEUS).expr(query.expr).range();
  return query.legend === undefined ? target : target.legendFormat(query.legend);
}

/** A time series of one PromQL expression, its title the query's panel name. */
export function promTimeseries(query: PromPanelQuery, unit: string, grid: ReturnType<typeof at>): Builder<Panel> {
  return new TimeseriesBuilder().title(query.panel).datasource(PROMETHEUS).unit(unit).gridPos(grid).withTarget(promTarget(query));
}

/** `$flavor`: the flavors Prometheus has series for, from the metric the dashboard is about. */
export function flavorVariable(metric: string): QueryVariableBuilder {
  return new QueryVariableBuilder('flavor')
    .label('Flavor')
    .datasource(PROMETHEUS)
    .query(`label_values(${metric}, flavor)`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

export function customVariable(name: string, label: string, values: readonly string[]): CustomVariableBuilder {
  return new CustomVariableBuilder(name).label(label).values(values.join(',')).multi(true).includeAll(true).allValue('.*');
}
