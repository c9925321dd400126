import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kstatSteps } from '../../../core/probes/steps.js';
import { parseKstatStream, parseStamped, parseZioStream } from '../../../core/probes/stream.js';
import { spansFromEnds, summarizeProbes } from '../../../core/probes/summary.js';
import { projectRoot } from '../../../lib/paths.js';

const stream = (name: string) => parseStamped(readFileSync(join(projectRoot, 'test/fixtures/probes', name), 'utf8'));

describe('the raw probe streams of a real run (scrub_mirror_001_pos in a debian13 clone)', () => {
  const zioLines = stream('zio-stream-debian13.txt');
  const kstatLines = stream('kstat-stream-debian13.txt');
  const windows = parseZioStream(zioLines);
  const samples = parseKstatStream(kstatLines);

  it('zio: a window every 2 s after bpftrace attached, the test’s writes, reads and scrub reads', () => {
    expect(windows.length).toBe(18);
    const gaps = windows.slice(1).map((w, i) => w.atMs - windows[i]!.atMs);
    expect(Math.min(...gaps)).toBeGreaterThan(1500);
    const types = new Set(windows.flatMap((w) => [...w.histograms.keys()]));
    expect([...types].sort()).toEqual(['read', 'scrub', 'write']);
  });

  it('kstat: every sample has the ARC, txgs of the pool while it existed, the slab every 5th', () => {
    expect(samples.length).toBe(19);
    expect(samples.every((s) => s.arc?.has('hits'))).toBe(true);
    expect(samples.some((s) => s.txgs.has('testpool'))).toBe(true);
    expect(samples.filter((s) => s.slabAllocBytes !== undefined).length).toBe(Math.ceil(19 / 5));
    const steps = kstatSteps(samples);
    expect(steps.flatMap((s) => s.txgSyncs).length).toBeGreaterThan(0);
  });

  it('one span over the whole stream sums to every window', () => {
    const from = Math.min(zioLines[0]!.atMs, kstatLines[0]!.atMs) - 1;
    const to = Math.max(zioLines.at(-1)!.atMs, kstatLines.at(-1)!.atMs);
    const [all] = summarizeProbes(spansFromEnds(from, [{ testId: 'all', atMs: to }]), kstatSteps(samples), windows);
    const total = (type: string) => windows.reduce((n, w) => n + (w.histograms.get(type) ?? []).reduce((m, b) => m + b.count, 0), 0);
    expect(all!.zio.write!.count).toBe(total('write'));
    expect(all!.zio.scrub!.count).toBe(total('scrub'));
    expect(all!.txg.testpool!.count).toBeGreaterThan(0);
    expect(all!.arc!.hits + all!.arc!.misses).toBeGreaterThan(0);
  });
});
