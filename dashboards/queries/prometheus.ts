/**
 * The PromQL behind every Prometheus panel. Each expression names the metric families it reads, so
 * a test can tell the ones today's exporters serve (which must return series during a run) from
 * the families the in-guest probes will export (`zfs_*`, named after pdf/zfs_exporter in base
 * units) and Tetragon's own (`tetragon_*`): those must still be valid PromQL that Prometheus runs.
 *
 * Labels are flavor/host/pool, never a run id or test name (those would be a new series per run).
 */
export interface PromPanelQuery {
  panel: string;
  expr: string;
  legend?: string;
  /** Metric families (names without `_bucket`/`_sum`/`_count`) the expression reads. */
  families: readonly string[];
}

const RATE = '$__rate_interval';

export const TEST_RESULTS_RATE: PromPanelQuery = {
  panel: 'Results recorded, by classification',
  expr: `sum by (flavor, classification) (increase(zfslab_test_results_total[${RATE}]))`,
  legend: '{{flavor}} {{classification}}',
  families: ['zfslab_test_results_total'],
};

export const TEST_DURATION_P95: PromPanelQuery = {
  panel: 'Test duration p95',
  expr: `histogram_quantile(0.95, sum by (le, flavor) (rate(zfslab_test_duration_seconds_bucket[${RATE}])))`,
  legend: '{{flavor}}',
  families: ['zfslab_test_duration_seconds'],
};

export const RUNS_BY_OUTCOME: PromPanelQuery = {
  panel: 'Runs finished, by outcome',
  expr: `sum by (outcome) (increase(zfslab_runs_total[${RATE}]))`,
  legend: '{{outcome}}',
  families: ['zfslab_runs_total'],
};

export const ZIO_LATENCY_HEATMAP: PromPanelQuery = {
  panel: 'zio latency',
  expr: `sum by (le) (rate(zfs_zio_latency_seconds_bucket{flavor=~"$flavor", type=~"$zio_type"}[${RATE}]))`,
  legend: '{{le}}',
  families: ['zfs_zio_latency_seconds'],
};

export const ZIO_LATENCY_P99: PromPanelQuery = {
  panel: 'zio latency p99, by type',
  expr: `histogram_quantile(0.99, sum by (le, type) (rate(zfs_zio_latency_seconds_bucket{flavor=~"$flavor"}[${RATE}])))`,
  legend: '{{type}}',
  families: ['zfs_zio_latency_seconds'],
};

export const TXG_SYNC_P95: PromPanelQuery = {
  panel: 'txg sync time p95, by pool',
  expr: `histogram_quantile(0.95, sum by (le, pool) (rate(zfs_txg_sync_seconds_bucket{flavor=~"$flavor"}[${RATE}])))`,
  legend: '{{pool}}',
  families: ['zfs_txg_sync_seconds'],
};

export const ARC_HIT_RATIO: PromPanelQuery = {
  panel: 'ARC hit ratio',
  expr: `sum by (flavor) (rate(zfs_arc_hits_total{flavor=~"$flavor"}[${RATE}])) / (sum by (flavor) (rate(zfs_arc_hits_total{flavor=~"$flavor"}[${RATE}])) + sum by (flavor) (rate(zfs_arc_misses_total{flavor=~"$flavor"}[${RATE}])))`,
  legend: '{{flavor}}',
  families: ['zfs_arc_hits_total', 'zfs_arc_misses_total'],
};

export const ARC_SIZES: PromPanelQuery = {
  panel: 'ARC size, MRU and MFU',
  expr: `sum by (flavor, list) (zfs_arc_list_size_bytes{flavor=~"$flavor"})`,
  legend: '{{flavor}} {{list}}',
  families: ['zfs_arc_list_size_bytes'],
};

export const ARC_EVICTIONS: PromPanelQuery = {
  panel: 'ARC evictions',
  expr: `sum by (flavor) (rate(zfs_arc_evicted_bytes_total{flavor=~"$flavor"}[${RATE}]))`,
  legend: '{{flavor}}',
  families: ['zfs_arc_evicted_bytes_total'],
};

export const REPLICATION_THROUGHPUT: PromPanelQuery = {
  panel: 'Replication throughput',
  expr: `sum by (flavor) (rate(zfs_replication_tcp_bytes_total{flavor=~"$flavor"}[${RATE}]))`,
  legend: '{{flavor}}',
  families: ['zfs_replication_tcp_bytes_total'],
};

export const REPLICATION_RETRANSMITS: PromPanelQuery = {
  panel: 'Retransmitted segments and qdisc drops',
  expr: `sum by (flavor) (rate(zfs_replication_tcp_retransmits_total{flavor=~"$flavor"}[${RATE}])) or sum by (flavor) (rate(zfs_replication_qdisc_drops_total{flavor=~"$flavor"}[${RATE}]))`,
  legend: '{{flavor}}',
  families: ['zfs_replication_tcp_retransmits_total', 'zfs_replication_qdisc_drops_total'],
};

export const REPLICATION_RTT: PromPanelQuery = {
  panel: 'Round-trip time',
  expr: `max by (flavor) (zfs_replication_tcp_rtt_seconds{flavor=~"$flavor"})`,
  legend: '{{flavor}}',
  families: ['zfs_replication_tcp_rtt_seconds'],
};

export const AUDIT_EVENTS: PromPanelQuery = {
  panel: 'Tetragon events, by type',
  expr: `sum by (type) (rate(tetragon_events_total[${RATE}]))`,
  legend: '{{type}}',
  families: ['tetragon_events_total'],
};

export const AUDIT_POLICY_EVENTS: PromPanelQuery = {
  panel: 'Tetragon policy events, by policy and hook',
  expr: `sum by (policy, hook) (rate(tetragon_policy_events_total[${RATE}]))`,
  legend: '{{policy}} {{hook}}',
  families: ['tetragon_policy_events_total'],
};

export const ARTIFACT_UPLOADS: PromPanelQuery = {
  panel: 'Artifact uploads, by result',
  expr: `sum by (outcome) (increase(zfslab_artifact_uploads_total[${RATE}]))`,
  legend: '{{outcome}}',
  families: ['zfslab_artifact_uploads_total'],
};

/** Every PromQL expression a dashboard runs: the tests evaluate each one in a real Prometheus. */
export const PROM_PANEL_QUERIES: readonly PromPanelQuery[] = [
  TEST_RESULTS_RATE,
  TEST_DURATION_P95,
  RUNS_BY_OUTCOME,
  ZIO_LATENCY_HEATMAP,
  ZIO_LATENCY_P99,
  TXG_SYNC_P95,
  ARC_HIT_RATIO,
  ARC_SIZES,
  ARC_EVICTIONS,
  REPLICATION_THROUGHPUT,
  REPLICATION_RETRANSMITS,
  REPLICATION_RTT,
  AUDIT_EVENTS,
  AUDIT_POLICY_EVENTS,
  ARTIFACT_UPLOADS,
];
