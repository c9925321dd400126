import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as HeatmapBuilder } from '@grafana/grafana-foundation-sdk/heatmap';
import { PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PROMETHEUS } from '../datasources.js';
import { TXG_SYNC_P95, ZIO_LATENCY_HEATMAP, ZIO_LATENCY_P99 } from '../queries/prometheus.js';
import { at, customVariable, flavorVariable, promTarget, promTimeseries } from './panels.js';

export const ZIO_LATENCY_UID = 'zfslab-zio-latency';

/** The zio types the probes key latency by (a zio's `io_type`; scrub/resilver from its priority). */
export const ZIO_TYPES = ['read', 'write', 'free', 'claim', 'ioctl', 'scrub', 'resilver'] as const;

export function zioLatencyDashboard(): Dashboard {
  return new DashboardBuilder('zfslab / zio latency')
    .uid(ZIO_LATENCY_UID)
    .tags(['zfslab', 'probes'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .withVariable(flavorVariable('zfs_zio_latency_seconds_bucket'))
    .withVariable(customVariable('zio_type', 'zio type', ZIO_TYPES))
    .withPanel(
      new HeatmapBuilder()
        .title(ZIO_LATENCY_HEATMAP.panel)
        .datasource(PROMETHEUS)
        .gridPos(at(0, 0, 24, 12))
        .calculate(false)
        .withTarget(promTarget(ZIO_LATENCY_HEATMAP).format(PromQueryFormat.Heatmap)),
    )
    .withPanel(promTimeseries(ZIO_LATENCY_P99, 's', at(0, 12, 12, 8)))
    .withPanel(promTimeseries(TXG_SYNC_P95, 's', at(12, 12, 12, 8)))
    .build();
}
