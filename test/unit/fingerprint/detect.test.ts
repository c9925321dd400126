import { describe, expect, it } from 'vitest';
import { detectDeviations } from '../../../core/fingerprint/detect.js';
import type { Fingerprint } from '../../../core/fingerprint/schema.js';
import { verifyStability } from '../../../core/fingerprint/stability.js';
import { DEFAULT_TOLERANCES, TolerancesSchema } from '../../../core/fingerprint/tolerances.js';
import { fixture } from './fixtures.js';
import { replayCapture, withLatency } from './replay.js';

const baseline = replayCapture(fixture('capture', 'raw-capture.jsonl'), 'workload.sh');
const clone = (fp: Fingerprint): Fingerprint => structuredClone(fp);

describe('detect', () => {
  it('finds nothing between a capture and itself', () => {
    const report = detectDeviations(baseline, clone(baseline), { ...DEFAULT_TOLERANCES, rate_basis: 'count' });
    expect(report.deviations).toEqual([]);
    expect(report.compared).toEqual([
      'syscalls',
      'binaries_spawned',
      'ioctl_codes',
      'network_destinations',
      'filesystem_paths_modified',
      'filesystem_paths_read',
    ]);
    expect(report.skipped).toEqual([{ section: 'kfunc_latency_p99_us', reason: expect.stringContaining('kprobes unavailable') }]);
  });

  it('flags schema drift: new binary, a new shell as critical, new ioctl, syscall, destination and path', () => {
    const current = clone(baseline);
    current.binaries_spawned.push({ path: '/usr/bin/id', count: 1, parents: [current.binaries_spawned.at(-1)!.path] });
    current.binaries_spawned.push({ path: '/bin/bash', count: 1, parents: ['/usr/bin/python3'] });
    current.ioctl_codes['0x5a05'] = { name: 'ZFS_IOC_POOL_STATS', count: 1, rate_per_s: 1 };
    current.syscalls.ptrace = { count: 1, rate_per_s: 1 };
    current.network_destinations.push({ family: 'inet', address: '198.51.100.7', port: 4444, count: 1 });
    current.filesystem_paths_modified.push('/etc/cron.d/evil');
    const report = detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'count' });
    expect(report.deviations.map((d) => [d.kind, d.category, d.key, d.severity])).toEqual([
      ['new', 'binaries_spawned', '/bin/bash', 'critical'],
      ['new', 'binaries_spawned', '/usr/bin/id', 'high'],
      ['new', 'ioctl_codes', '0x5a05', 'high'],
      ['new', 'network_destinations', '198.51.100.7:4444', 'high'],
      ['new', 'syscalls', 'ptrace', 'high'],
      ['new', 'filesystem_paths_modified', '/etc/cron.d/evil', 'medium'],
    ]);
    expect(report.deviations[2]?.message).toBe('new ioctl 0x5a05 (ZFS_IOC_POOL_STATS) (1×)');
  });

  it('flags a known binary under a new parent, and vanished keys', () => {
    const current = clone(baseline);
    const cat = current.binaries_spawned.find((b) => b.path === '/usr/bin/cat')!;
    cat.parents = ['/usr/bin/python3'];
    current.binaries_spawned = current.binaries_spawned.filter((b) => b.path !== '/usr/bin/mv');
    const report = detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'count' });
    expect(report.deviations.map((d) => [d.kind, d.key, d.severity])).toEqual([
      ['new', '/usr/bin/cat <- /usr/bin/python3', 'medium'],
      ['missing', '/usr/bin/mv', 'medium'],
    ]);
  });

  it('flags rate drift both ways beyond tolerance, and not within it', () => {
    const current = clone(baseline);
    current.syscalls.sched_yield = { count: 333 * 1.04, rate_per_s: 0 }; // within 5%
    current.syscalls.newfstatat = { count: Math.round(baseline.syscalls.newfstatat!.count * 1.5), rate_per_s: 0 };
    current.syscalls.openat = { count: Math.round(baseline.syscalls.openat!.count * 0.5), rate_per_s: 0 };
    const report = detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'count' });
    expect(report.deviations.map((d) => [d.kind, d.key, d.severity])).toEqual([
      ['rate_up', 'newfstatat', 'high'],
      ['rate_down', 'openat', 'high'],
    ]);
  });

  it('normalises by duration when comparing rates', () => {
    const current = clone(baseline);
    current.duration_s = baseline.duration_s * 2; // same counts in twice the time: half the rate
    const rates = detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'rate' });
    expect(rates.deviations.length).toBeGreaterThan(0);
    expect(rates.deviations.every((d) => d.kind === 'rate_down' && d.change === -0.5)).toBe(true);
    expect(detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'count' }).deviations).toEqual([]);
  });

  it('by default compares per run when both ran to the end, per second when one was cut by its duration', () => {
    const slower = clone(baseline);
    slower.duration_s = baseline.duration_s * 3;
    expect(detectDeviations(baseline, slower).deviations).toEqual([]);
    slower.capture.stopped_by = 'duration';
    const cut = detectDeviations(baseline, slower);
    expect(cut.deviations.length).toBeGreaterThan(0);
    expect(cut.deviations.every((d) => d.kind === 'rate_down')).toBe(true);
  });

  it('flags latency drift on real histograms, slower as worse', () => {
    const base = withLatency(1);
    const slower = withLatency(2);
    const report = detectDeviations(base, slower);
    expect(report.deviations.map((d) => [d.kind, d.key, d.severity])).toEqual([
      ['latency_up', 'openat', 'high'],
      ['latency_up', 'read', 'high'],
    ]);
    const slightly = detectDeviations(base, withLatency(1.25));
    expect(slightly.deviations.map((d) => d.severity)).toEqual(['medium', 'medium']);
    expect(report.deviations[0]?.change).toBeCloseTo(1, 2);
    expect(detectDeviations(slower, base).deviations.every((d) => d.kind === 'latency_down' && d.severity === 'low')).toBe(true);
  });

  it('reports a section lost since the baseline instead of comparing it', () => {
    const current = clone(baseline);
    current.capture.sections.network_destinations = { status: 'not_captured', reason: 'the kernel has no syscalls:sys_enter_connect tracepoint' };
    current.network_destinations = [];
    const report = detectDeviations(baseline, current, { ...DEFAULT_TOLERANCES, rate_basis: 'count' });
    expect(report.deviations.map((d) => [d.kind, d.category, d.severity])).toEqual([['coverage', 'network_destinations', 'low']]);
  });

  it('ignores keys the stability check found unstable', () => {
    const current = clone(baseline);
    current.syscalls.futex = { count: 3, rate_per_s: 1 };
    const tolerances = { ...DEFAULT_TOLERANCES, rate_basis: 'count' as const, unstable: { ...DEFAULT_TOLERANCES.unstable, syscalls: ['futex'] } };
    expect(detectDeviations(baseline, current, tolerances).deviations).toEqual([]);
  });
});

describe('stability', () => {
  it('derives tolerances from observed variance', () => {
    const second = clone(baseline);
    second.duration_s = baseline.duration_s * 1.3; // timing varies, the work does not
    second.syscalls.newfstatat = { count: Math.round(baseline.syscalls.newfstatat!.count * 1.08), rate_per_s: 0 };
    second.syscalls.ptrace = { count: 1, rate_per_s: 0 };
    const report = verifyStability([baseline, second]);
    expect(report.tolerances.rate_basis).toBe('count');
    const syscalls = report.categories.find((c) => c.category === 'syscalls')!;
    expect(syscalls.countSpread?.worstKey).toBe('newfstatat');
    expect(syscalls.countSpread?.max).toBeCloseTo(0.077, 2);
    expect(report.tolerances.counts.syscalls).toBe(0.12); // 1.5 × 7.7%, rounded up
    expect(report.tolerances.counts.binaries_spawned).toBe(0.05); // no spread: the stable-bound floor
    expect(report.tolerances.unstable.syscalls).toEqual(['ptrace']);
    expect(report.stable).toBe(false);
    expect(report.categories.find((c) => c.category === 'kfunc_latency_p99_us')).toMatchObject({ compared: false });
    expect(TolerancesSchema.parse(report.tolerances)).toEqual(report.tolerances);
    // The derived tolerances accept the second capture against the first.
    expect(detectDeviations(baseline, second, report.tolerances).deviations).toEqual([]);
  });

  it('calls identical captures stable', () => {
    const report = verifyStability([baseline, clone(baseline)]);
    expect(report.stable).toBe(true);
    expect(report.tolerances.counts).toEqual(DEFAULT_TOLERANCES.counts);
  });

  it('measures latency spread', () => {
    const report = verifyStability([withLatency(1), withLatency(1.05)]);
    const latency = report.categories.find((c) => c.category === 'kfunc_latency_p99_us')!;
    expect(latency.compared).toBe(true);
    expect(latency.countSpread?.max).toBeGreaterThan(0.03);
    expect(report.tolerances.latency).toBe(0.1);
  });
});
