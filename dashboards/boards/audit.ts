import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { ARTIFACT_UPLOADS, AUDIT_EVENTS, AUDIT_POLICY_EVENTS } from '../queries/prometheus.js';
import { at, promTimeseries } from './panels.js';

export const AUDIT_UID = 'zfslab-audit';

/** Tetragon's own exported metrics where an agent runs, beside what zfslab wrote to S3. */
export function auditDashboard(): Dashboard {
  return new DashboardBuilder('zfslab / Audit stream')
    .uid(AUDIT_UID)
    .tags(['zfslab', 'audit'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .withPanel(promTimeseries(AUDIT_EVENTS, 'short', at(0, 0, 24, 9)))
    .withPanel(promTimeseries(AUDIT_POLICY_EVENTS, 'short', at(0, 9, 12, 9)))
    .withPanel(promTimeseries(ARTIFACT_UPLOADS, 'short', at(12, 9, 12, 9)))
    .build();
}
