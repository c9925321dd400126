import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { ARC_EVICTIONS, ARC_HIT_RATIO, ARC_SIZES } from '../queries/prometheus.js';
import { at, flavorVariable, promTimeseries } from './panels.js';

export const ARC_UID = 'zfslab-arc';

export function arcDashboard(): Dashboard {
  return new DashboardBuilder('zfslab / ARC efficiency')
    .uid(ARC_UID)
    .tags(['zfslab', 'probes'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .withVariable(flavorVariable('zfs_arc_hits_total'))
    .withPanel(promTimeseries(ARC_HIT_RATIO, 'percentunit', at(0, 0, 24, 9)))
    .withPanel(promTimeseries(ARC_SIZES, 'bytes', at(0, 9, 12, 9)))
    .withPanel(promTimeseries(ARC_EVICTIONS, 'Bps', at(12, 9, 12, 9)))
    .build();
}
