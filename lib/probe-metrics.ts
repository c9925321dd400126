import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TickDelta } from '../core/network/tcp-stats.js';
import type { KstatStep } from '../core/probes/steps.js';
import type { ZioWindow } from '../core/probes/stream.js';

/**
 * What the in-guest probes export from the host worker while a chunk runs, named as pdf/zfs_exporter
 * names the same kstats (`zfs_` prefix, base units, `_total` on counters) and as the dashboards read
 * them (dashboards/queries/prometheus.ts). Labels: flavor and host (and the zio type, the pool, the
 * ARC list): never a run id or a test name, which are the results store's.
 */
export interface ProbeMetrics {
  zioLatency: Histogram<'flavor' | 'host' | 'type'>;
  txgSync: Histogram<'flavor' | 'host' | 'pool'>;
  arcHits: Counter<'flavor' | 'host'>;
  arcMisses: Counter<'flavor' | 'host'>;
  arcEvicted: Counter<'flavor' | 'host'>;
  arcListSize: Gauge<'flavor' | 'host' | 'list'>;
  memoryThrottles: Counter<'flavor' | 'host'>;
  splSlabAlloc: Gauge<'flavor' | 'host'>;
  /** A replication's network, from the guest's TCP flows while a recipe runs (activities/vm/tcp-sampler.ts). */
  replicationBytes: Counter<'flavor' | 'host'>;
  replicationRetransmits: Counter<'flavor' | 'host'>;
  replicationQdiscDrops: Counter<'flavor' | 'host'>;
  replicationRtt: Gauge<'flavor' | 'host'>;
}

/**
 * bpftrace's log2 buckets, in seconds: a zio lifetime of [2^k, 2^(k+1)) ns is counted in the bucket
 * with upper bound 2^(k+1) ns, so the exported histogram holds exactly what the probe measured.
 * 1 µs to 17 s (2^10 to 2^34 ns).
 */
export const ZIO_LATENCY_BUCKETS = Array.from({ length: 25 }, (_, i) => 2 ** (i + 10) / 1e9);
/** A txg syncs in milliseconds when idle, seconds under load, tens of seconds when the pool is struggling. */
export const TXG_SYNC_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The labels of every series but the histograms' and the ARC lists': which flavor, on which host. */
const PER_HOST = ['flavor', 'host'] as const;

export function createProbeMetrics(registry: Registry): ProbeMetrics {
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: PER_HOST, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: PER_HOST, registers });
  return {
    zioLatency: new Histogram({
      name: 'zfs_zio_latency_seconds',
      help: 'Lifetime of logical zios (constructor to zio_done) in the guest, by type (read, write, free, claim, ioctl, trim; scrub: reads at scrub priority).',
      labelNames: [...PER_HOST, 'type'],
      buckets: ZIO_LATENCY_BUCKETS,
      registers,
    }),
    txgSync: new Histogram({
      name: 'zfs_txg_sync_seconds',
      help: 'Time each committed txg spent syncing (the txgs kstat stime), per pool.',
      labelNames: [...PER_HOST, 'pool'],
      buckets: TXG_SYNC_BUCKETS,
      registers,
    }),
    arcHits: counter('zfs_arc_hits_total', 'ARC hits (arcstats hits).'),
    arcMisses: counter('zfs_arc_misses_total', 'ARC misses (arcstats misses).'),
    arcEvicted: counter('zfs_arc_evicted_bytes_total', 'Bytes evicted from the ARC (arcstats evict_l2_cached + evict_l2_eligible + evict_l2_ineligible).'),
    arcListSize: new Gauge({
      name: 'zfs_arc_list_size_bytes',
      help: 'Size of each ARC list (mru, mfu, their ghosts, anon, uncached) at the last sample.',
      labelNames: [...PER_HOST, 'list'],
      registers,
    }),
    memoryThrottles: counter('zfs_arc_memory_throttles_total', 'Allocations the ARC throttled for lack of memory (arcstats memory_throttle_count).'),
    splSlabAlloc: gauge('zfs_spl_slab_alloc_bytes', "Bytes allocated from the SPL's slab caches (/proc/spl/kmem/slab) at the last sample."),
    replicationBytes: counter(
      'zfs_replication_tcp_bytes_total',
      "Bytes moved over the guest's TCP flows while a recipe ran (bytes_acked + bytes_received, ssh excluded).",
    ),
    replicationRetransmits: counter('zfs_replication_tcp_retransmits_total', "Segments retransmitted on the guest's TCP flows while a recipe ran."),
    replicationQdiscDrops: counter('zfs_replication_qdisc_drops_total', "Packets the guest's qdiscs dropped (tc netem loss among them) while a recipe ran."),
    replicationRtt: gauge('zfs_replication_tcp_rtt_seconds', "The largest smoothed RTT among the guest's TCP flows at the last sample."),
  };
}

export interface ProbeLabels {
  flavor: string;
  host: string;
}

export function recordKstatStep(metrics: ProbeMetrics, labels: ProbeLabels, step: KstatStep): void {
  if (step.arc) {
    metrics.arcHits.inc(labels, step.arc.hits);
    metrics.arcMisses.inc(labels, step.arc.misses);
    metrics.arcEvicted.inc(labels, step.arc.evictedBytes);
    metrics.memoryThrottles.inc(labels, step.arc.memoryThrottles);
  }
  for (const [list, bytes] of Object.entries(step.arcSizes)) metrics.arcListSize.set({ ...labels, list }, bytes);
  if (step.slabAllocBytes !== undefined) metrics.splSlabAlloc.set(labels, step.slabAllocBytes);
  for (const sync of step.txgSyncs) metrics.txgSync.observe({ ...labels, pool: sync.pool }, sync.syncSeconds);
}

export function recordTcpDelta(metrics: ProbeMetrics, labels: ProbeLabels, delta: TickDelta): void {
  metrics.replicationBytes.inc(labels, delta.bytes);
  metrics.replicationRetransmits.inc(labels, delta.retransmits);
  metrics.replicationQdiscDrops.inc(labels, delta.qdiscDrops);
  if (delta.rttSecondsMax !== undefined) metrics.replicationRtt.set(labels, delta.rttSecondsMax);
}

export function recordZioWindow(metrics: ProbeMetrics, labels: ProbeLabels, window: ZioWindow): void {
  for (const [type, buckets] of window.histograms) {
    const series = { ...labels, type };
    for (const b of buckets) {
      // The bucket's upper bound (inclusive) lands in the exported bucket that ends at 2^(k+1) ns.
      const seconds = (b.max ?? b.min ?? 0) / 1e9;
      for (let i = 0; i < b.count; i++) metrics.zioLatency.observe(series, seconds);
    }
  }
}
