import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { REPLICATION_RETRANSMITS, REPLICATION_RTT, REPLICATION_THROUGHPUT } from '../queries/prometheus.js';
import { at, flavorVariable, promTimeseries } from './panels.js';

export const REPLICATION_UID = 'zfslab-replication';

export function replicationDashboard(): Dashboard {
  return new DashboardBuilder('zfslab / Replication network')
    .uid(REPLICATION_UID)
    .tags(['zfslab', 'probes'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .withVariable(flavorVariable('zfs_replication_tcp_bytes_total'))
    .withPanel(promTimeseries(REPLICATION_THROUGHPUT, 'Bps', at(0, 0, 24, 9)))
    .withPanel(promTimeseries(REPLICATION_RETRANSMITS, 'short', at(0, 9, 12, 9)))
    .withPanel(promTimeseries(REPLICATION_RTT, 's', at(12, 9, 12, 9)))
    .build();
}
