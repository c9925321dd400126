import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { busiestTest, zioHeatmap } from '../../../core/probes/heatmap.js';
import { kstatSteps } from '../../../core/probes/steps.js';
import { KstatStreamParser, LineStamper, parseStamped, parseZioStream, renderStamped } from '../../../core/probes/stream.js';
import { spansFromEnds, summarizeProbes } from '../../../core/probes/summary.js';
import type { KstatSample, ZioWindow } from '../../../core/probes/stream.js';
import type { TxgRow } from '../../../core/probes/kstat.js';
import { createProbeMetrics, recordKstatStep, recordZioWindow } from '../../../lib/probe-metrics.js';

const txg = (n: number, state: string, syncMs: number, birth = n * 1000): TxgRow => ({
  txg: n,
  birth,
  state,
  nwrittenBytes: n * 10,
  writes: 1,
  syncNs: syncMs * 1e6,
});
const arc = (hits: number, misses: number, evicted = 0): Map<string, number> =>
  new Map([
    ['hits', hits],
    ['misses', misses],
    ['evict_l2_eligible', evicted],
    ['mru_size', 100 + hits],
    ['mfu_size', 7],
    ['memory_available_bytes', 5000 - hits],
  ]);
const sample = (atMs: number, a: Map<string, number>, txgs: Record<string, TxgRow[]> = {}, slab?: number): KstatSample => ({
  atMs,
  arc: a,
  txgs: new Map(Object.entries(txgs)),
  ...(slab !== undefined ? { slabAllocBytes: slab } : {}),
});

describe('kstat samples into steps', () => {
  it('counters as deltas, a reset counted from zero, txgs committed before the first sample not counted', () => {
    const steps = kstatSteps([
      sample(1000, arc(10, 2), { testpool: [txg(1, 'C', 5), txg(2, 'O', 0)] }),
      sample(3000, arc(15, 3, 4096), { testpool: [txg(1, 'C', 5), txg(2, 'C', 40), txg(3, 'O', 0)] }),
      // The module reloaded: its counters start again.
      sample(5000, arc(4, 1), { testpool: [txg(2, 'C', 40), txg(3, 'C', 7)], other: [txg(1, 'C', 2, 99)] }),
    ]);
    expect(steps[0]).toMatchObject({ txgSyncs: [], arcSizes: { mru: 110, mfu: 7 } });
    expect(steps[0]!.arc).toBeUndefined();
    expect(steps[1]!.arc).toEqual({ hits: 5, misses: 1, evictedBytes: 4096, memoryThrottles: 0, directReclaims: 0, indirectReclaims: 0 });
    expect(steps[1]!.txgSyncs).toEqual([{ pool: 'testpool', txg: 2, syncSeconds: 0.04, writtenBytes: 20 }]);
    expect(steps[2]!.arc).toMatchObject({ hits: 4, misses: 1 });
    // A pool that appears later is new: all its committed txgs count.
    expect(steps[2]!.txgSyncs.map((s) => [s.pool, s.txg])).toEqual([
      ['testpool', 3],
      ['other', 1],
    ]);
  });
});

describe('records attributed to the scripts that ran when they arrived', () => {
  const spans = spansFromEnds(1000, [
    { testId: 'g/setup', atMs: 2500 },
    { testId: 'g/t1', atMs: 7000 },
  ]);
  const windows: ZioWindow[] = [
    { atMs: 2000, histograms: new Map([['write', [{ min: 4096, max: 8191, count: 10 }]]]) },
    { atMs: 4000, histograms: new Map([['write', [{ min: 1048576, max: 2097151, count: 3 }]]]) },
    {
      atMs: 6000,
      histograms: new Map([
        ['write', [{ min: 4096, max: 8191, count: 1 }]],
        ['scrub', [{ min: 2097152, max: 4194303, count: 5 }]],
      ]),
    },
    // After the last result line: the runner's tail, nobody's.
    { atMs: 8000, histograms: new Map([['read', [{ min: 1, max: 1, count: 99 }]]]) },
  ];
  const steps = kstatSteps([
    sample(1500, arc(0, 0), {}, 100),
    sample(2400, arc(3, 1), {}, 300),
    sample(4500, arc(9, 1), { testpool: [txg(5, 'C', 20), txg(6, 'C', 200)] }, 200),
    sample(6500, arc(10, 5, 512)),
  ]);
  const [setup, t1] = summarizeProbes(spans, steps, windows);

  it('zio: per type, merged buckets, percentiles in seconds, windows kept for a heatmap', () => {
    expect(spans.map((s) => [s.testId, s.startMs, s.endMs])).toEqual([
      ['g/setup', 1000, 2500],
      ['g/t1', 2500, 7000],
    ]);
    expect(Object.keys(setup!.zio)).toEqual(['write']);
    expect(setup!.zio.write!.count).toBe(10);
    expect(t1!.zio.write!.count).toBe(4);
    expect(t1!.zio.write!.windows.map((w) => w.atMs)).toEqual([4000, 6000]);
    expect(t1!.zio.write!.p50Seconds).toBeGreaterThan(1e-3);
    expect(t1!.zio.write!.maxSeconds).toBeCloseTo(2097151e-9, 12);
    expect(t1!.zio.scrub!.count).toBe(5);
    expect(t1!.zio.read).toBeUndefined();
  });

  it('txg syncs, ARC deltas and the SPL per script', () => {
    // The pool's txgs were first seen by a sample inside t1 (the pool was created then).
    expect(t1!.txg.testpool).toMatchObject({ count: 2, p50Seconds: 0.02, maxSeconds: 0.2, writtenBytes: 110 });
    expect(setup!.txg).toEqual({});
    expect(setup!.arc).toMatchObject({ hits: 3, misses: 1, hitRatio: 0.75 });
    expect(t1!.arc).toMatchObject({ hits: 7, misses: 4, evictedBytes: 512, sizes: { mru: 110, mfu: 7 } });
    expect(setup!.spl).toMatchObject({ slabAllocBytesMax: 300, availableBytesMin: 4997 });
    expect(t1!.spl?.slabAllocBytesMax).toBe(200);
  });

  it('a heatmap of the busiest test: windows × buckets, all types added', () => {
    const rows = [setup!, t1!].flatMap((s) =>
      Object.entries(s.zio).map(([series, z]) => ({
        testId: s.testId,
        flavorId: 'debian13',
        series,
        count: z.count,
        detail: { startMs: s.startMs, windows: z.windows },
      })),
    );
    expect(busiestTest(rows)).toEqual({ testId: 'g/setup', flavorId: 'debian13' });
    const heatmap = zioHeatmap(rows, 'g/t1', 'debian13')!;
    expect(heatmap.steps).toEqual(['+2 s', '+4 s']);
    expect(heatmap.bucketsSeconds).toEqual([8192e-9, 2097152e-9, 4194304e-9]);
    expect(heatmap.counts).toEqual([
      [0, 3, 0],
      [1, 0, 5],
    ]);
    expect(zioHeatmap(rows, 'g/none', 'debian13')).toBeUndefined();
  });
});

describe('the probes exported from the host worker', () => {
  it('zio buckets land in the exported bucket of the same log2 bound; kstat steps as counters, gauges and a txg histogram', async () => {
    const registry = new Registry();
    const metrics = createProbeMetrics(registry);
    const labels = { flavor: 'debian13', host: 'lab' };
    recordZioWindow(metrics, labels, { atMs: 1, histograms: new Map([['write', [{ min: 4096, max: 8191, count: 3 }]]]) });
    const [, step] = kstatSteps([sample(0, arc(1, 1), { testpool: [] }, 64), sample(1, arc(5, 2), { testpool: [txg(9, 'C', 30)] }, 96)]);
    recordKstatStep(metrics, labels, step!);
    const text = await registry.metrics();
    expect(text).toContain('zfs_zio_latency_seconds_bucket{le="0.000008192",flavor="debian13",host="lab",type="write"} 3');
    expect(text).toContain('zfs_zio_latency_seconds_bucket{le="0.000004096",flavor="debian13",host="lab",type="write"} 0');
    expect(text).toContain('zfs_arc_hits_total{flavor="debian13",host="lab"} 4');
    expect(text).toContain('zfs_arc_misses_total{flavor="debian13",host="lab"} 1');
    expect(text).toContain('zfs_arc_list_size_bytes{flavor="debian13",host="lab",list="mru"} 105');
    expect(text).toContain('zfs_txg_sync_seconds_count{flavor="debian13",host="lab",pool="testpool"} 1');
    expect(text).toContain('zfs_spl_slab_alloc_bytes{flavor="debian13",host="lab"} 96');
    expect(text).not.toMatch(/run_id|test_id/);
  });
});

describe('the stamped streams', () => {
  it('lines keep their arrival time, a partial line waits for its end, and the raw form parses back', () => {
    const stamper = new LineStamper();
    stamper.push('@@zfslab-kstat 1\n@@file arc', 10);
    stamper.push('stats\nhits 4 7\n@@end\n', 20);
    expect(stamper.lines).toEqual([
      { atMs: 10, text: '@@zfslab-kstat 1' },
      { atMs: 20, text: '@@file arcstats' },
      { atMs: 20, text: 'hits 4 7' },
      { atMs: 20, text: '@@end' },
    ]);
    const back = parseStamped(renderStamped(stamper.lines));
    expect(back).toEqual(stamper.lines);
    const parser = new KstatStreamParser();
    const samples = back.map((l) => parser.push(l)).filter(Boolean);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.arc?.get('hits')).toBe(7);
  });

  it('zio windows open at their marker; an empty window is a window; non-JSON is counted, not fatal', () => {
    const at = (atMs: number, text: string) => ({ atMs, text });
    const windows = parseZioStream([
      at(1, '{"type": "attached_probes", "data": {"probes": 10}}'),
      at(2, '{"type": "printf", "data": "@@zfslab-zio-window\\n"}'),
      at(4, '{"type": "printf", "data": "@@zfslab-zio-window\\n"}'),
      at(4, '{"type": "hist", "data": {"@zio_ns": {"read": [{"min": 4096, "max": 8191, "count": 14}]}}}'),
      at(5, 'WARNING: something'),
    ]);
    expect(windows.map((w) => [w.atMs, [...w.histograms.keys()]])).toEqual([
      [2, []],
      [4, ['read']],
    ]);
  });
});
