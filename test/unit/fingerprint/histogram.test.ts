import { describe, expect, it } from 'vitest';
import { parseBpftraceJsonLine, BpftraceOutputError } from '../../../core/fingerprint/bpftrace-output.js';
import type { HistBucket } from '../../../core/fingerprint/events.js';
import { mergeBuckets, parseBucketLabel, parseHistogramText, quantileFromBuckets } from '../../../core/fingerprint/histogram.js';
import { fixture } from './fixtures.js';

// Both fixtures are real bpftrace v0.17.0 output of test/fixtures/fingerprint/bpftrace/syscall-latency.bt
// on the lab host (text and -f json runs, so their counts differ).

describe('bpftrace hist() text', () => {
  const histograms = parseHistogramText(fixture('bpftrace', 'syscall-latency-hist.txt'));

  it('finds every histogram, keyed ones with their key', () => {
    expect(histograms.map((h) => `${h.map}${h.key === undefined ? '' : `[${h.key}]`}`)).toEqual([
      '@all_us',
      '@ret_lhist',
      '@syscall_ns[read]',
      '@syscall_ns[openat]',
    ]);
  });

  it('reads [0], [1], power-of-two ranges and K/M/G suffixes as inclusive bounds', () => {
    const all = histograms[0]?.buckets ?? [];
    expect(all[0]).toEqual({ min: 0, max: 0, count: 13637 });
    expect(all[1]).toEqual({ min: 1, max: 1, count: 7558 });
    expect(all[2]).toEqual({ min: 2, max: 3, count: 3906 });
    expect(all.find((b) => b.min === 512)).toEqual({ min: 512, max: 1023, count: 20 });
    expect(all.find((b) => b.min === 1024 * 1024)).toEqual({ min: 1048576, max: 2097151, count: 2 });
    const read = histograms[2]?.buckets ?? [];
    expect(read.at(-1)).toEqual({ min: 2 * 1024 ** 3, max: 4 * 1024 ** 3 - 1, count: 1 });
    expect(read.reduce((s, b) => s + b.count, 0)).toBe(13606);
  });

  it('reads lhist() open ends', () => {
    const lhist = histograms[1]?.buckets ?? [];
    expect(lhist[0]).toEqual({ max: -1, count: 4757 });
    expect(lhist[1]).toEqual({ min: 0, max: 99, count: 15697 });
    expect(lhist.at(-1)).toEqual({ min: 1000, count: 5275 });
  });

  it('rejects what is not a bucket', () => {
    expect(() => parseBucketLabel('[4, 8]x')).toThrow();
    expect(parseBucketLabel('[4, 8)')).toEqual({ min: 4, max: 7 });
    expect(parseBucketLabel('[1K, 2K)')).toEqual({ min: 1024, max: 2047 });
  });
});

describe('bpftrace -f json', () => {
  const records = fixture('bpftrace', 'syscall-latency-hist.json')
    .split('\n')
    .map(parseBpftraceJsonLine)
    .filter((r) => r !== undefined);

  it('parses attached_probes and unkeyed/keyed hists', () => {
    expect(records.map((r) => r.type)).toEqual(['attached_probes', 'hist', 'hist', 'hist']);
    expect(records[0]).toEqual({ type: 'attached_probes', probes: 4 });
    const all = records[1];
    if (all?.type !== 'hist') throw new Error('expected a hist');
    expect(all.name).toBe('@all_us');
    expect(all.histograms.get(undefined)?.[0]).toEqual({ min: 0, max: 0, count: 11489 });
    const lhist = records[2];
    if (lhist?.type !== 'hist') throw new Error('expected a hist');
    expect(lhist.histograms.get(undefined)?.[0]).toEqual({ max: -1, count: 3843 });
    expect(lhist.histograms.get(undefined)?.at(-1)).toEqual({ min: 1000, count: 3943 });
    const keyed = records[3];
    if (keyed?.type !== 'hist') throw new Error('expected a hist');
    expect([...keyed.histograms.keys()].sort()).toEqual(['openat', 'read']);
    expect(keyed.histograms.get('openat')?.[0]).toEqual({ min: 512, max: 1023, count: 3732 });
  });

  it('text and json bucket bounds agree for the same bucket labels', () => {
    const text = parseHistogramText(fixture('bpftrace', 'syscall-latency-hist.txt'))[3]?.buckets ?? [];
    const json = records[3]?.type === 'hist' ? (records[3].histograms.get('openat') ?? []) : [];
    const bounds = (b: HistBucket[]) => b.map(({ min, max }) => `${min}-${max}`);
    expect(bounds(text).slice(0, 8)).toEqual(bounds(json).slice(0, 8));
  });

  it('parses printf, map and lost_events, and rejects garbage', () => {
    expect(parseBpftraceJsonLine('{"type": "printf", "data": "exec\\t1\\t2\\t/bin/true\\n"}')).toEqual({ type: 'printf', text: 'exec\t1\t2\t/bin/true\n' });
    const map = parseBpftraceJsonLine('{"type": "map", "data": {"@syscalls": {"0": 22, "257": 33}}}');
    expect(map?.type === 'map' && Object.fromEntries(map.values)).toEqual({ 0: 22, 257: 33 });
    expect(parseBpftraceJsonLine('{"type": "lost_events", "data": {"events": 12}}')).toEqual({ type: 'lost_events', events: 12 });
    expect(parseBpftraceJsonLine('   ')).toBeUndefined();
    expect(() => parseBpftraceJsonLine('{"type": "map", "data": {"@a": {"x": "y"}}}')).toThrow(BpftraceOutputError);
    expect(() => parseBpftraceJsonLine('Attaching 4 probes...')).toThrow(BpftraceOutputError);
  });
});

describe('quantiles from buckets', () => {
  it('interpolates inside the bucket that holds the rank', () => {
    const buckets: HistBucket[] = [
      { min: 0, max: 0, count: 50 },
      { min: 512, max: 1023, count: 49 },
      { min: 1024, max: 2047, count: 1 },
    ];
    expect(quantileFromBuckets(buckets, 0.5)).toBe(0);
    expect(quantileFromBuckets(buckets, 0.99)).toBe(1024);
    expect(quantileFromBuckets(buckets, 1)).toBe(2048);
    expect(quantileFromBuckets(buckets, 0.745)).toBeCloseTo(512 + 512 * (24.5 / 49));
    expect(quantileFromBuckets([], 0.99)).toBeUndefined();
  });

  it('on the real read() latency histogram the p99 lies in the bucket holding the 99th percentile', () => {
    const records = fixture('bpftrace', 'syscall-latency-hist.json').split('\n').map(parseBpftraceJsonLine);
    const keyed = records.find((r) => r?.type === 'hist' && r.name === '@syscall_ns');
    const read = keyed?.type === 'hist' ? (keyed.histograms.get('read') ?? []) : [];
    const total = read.reduce((s, b) => s + b.count, 0);
    let seen = 0;
    const holder = read.find((b) => (seen += b.count) >= 0.99 * total);
    const p99 = quantileFromBuckets(read, 0.99) as number;
    expect(p99).toBeGreaterThanOrEqual(holder?.min ?? NaN);
    expect(p99).toBeLessThanOrEqual((holder?.max ?? NaN) + 1);
  });

  it('merges buckets with the same bounds', () => {
    expect(
      mergeBuckets(
        [{ min: 1, max: 1, count: 2 }],
        [
          { min: 1, max: 1, count: 3 },
          { min: 0, max: 0, count: 1 },
        ],
      ),
    ).toEqual([
      { min: 0, max: 0, count: 1 },
      { min: 1, max: 1, count: 5 },
    ]);
  });
});
