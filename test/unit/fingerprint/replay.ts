import { parseBpftraceJsonLine } from '../../../core/fingerprint/bpftrace-output.js';
import { CaptureStreamDecoder } from '../../../core/fingerprint/capture-stream.js';
import { SECTION_NAMES, type Fingerprint, type SectionCoverage, type SectionName } from '../../../core/fingerprint/schema.js';
import { FingerprintSummariser } from '../../../core/fingerprint/summarise.js';
import { fixture } from './fixtures.js';

/**
 * The probe output of the lab host (bpftrace 0.17, tracefs mounted, no kprobe_events, BTF, no ZFS),
 * as the probe script prints it; the syscall tracepoint list is the one the capture uses.
 */
export const LAB_HOST_PROBE = [
  'uid=0',
  'arch=x86_64',
  'kernel=6.18.44-fc-v657',
  'bpftrace=bpftrace v0.17.0',
  'tracefs=/sys/kernel/tracing',
  'syscall_tracepoints=chdir fchdir open openat openat2 creat mkdir mkdirat unlink unlinkat rmdir rename renameat renameat2 truncate link linkat symlink symlinkat mknod mknodat ioctl connect execve',
  'btf=yes',
].join('\n');

/** Replays a raw capture (plan record + the capture script's output) into a fingerprint, as a live capture would. */
export function replayCapture(raw: string, workload = 'replayed'): Fingerprint {
  let summariser: FingerprintSummariser | undefined;
  const decoder = new CaptureStreamDecoder((cwd) => summariser?.setInitialCwd(cwd));
  for (const line of raw.split('\n')) {
    const events = decoder.line(line);
    const plan = decoder.plan;
    if (!plan) throw new Error('raw capture without a plan record');
    summariser ??= new FingerprintSummariser({ zfsIoctlTable: plan.zfs_ioctl_table, sources: plan.sources });
    for (const event of events) summariser.add(event);
  }
  const end = decoder.end;
  const plan = decoder.plan;
  if (!end || !plan || !summariser) throw new Error('no end record');
  return summariser.finish({
    workload,
    capturedAt: plan.captured_at,
    durationSeconds: (end.ended_us - end.started_us) / 1e6,
    coverage: plan.coverage as Record<SectionName, SectionCoverage>,
    backends: plan.backends,
    stoppedBy: end.stopped_by,
    exitCode: end.exit_code,
  });
}

/**
 * A fingerprint whose latency section holds the real read()/openat() latency histograms of the lab host
 * (test/fixtures/fingerprint/bpftrace), standing in for kernel functions (kprobes do not work here);
 * `scale` stretches every bucket, to make a slower or faster run.
 */
export function withLatency(scale = 1): Fingerprint {
  const hist = fixture('bpftrace', 'syscall-latency-hist.json')
    .split('\n')
    .map(parseBpftraceJsonLine)
    .find((r) => r?.type === 'hist' && r.name === '@syscall_ns');
  if (hist?.type !== 'hist') throw new Error('fixture lacks @syscall_ns');
  const summariser = new FingerprintSummariser({ zfsIoctlTable: '2.3', sources: { kfunc_latency_p99_us: 'bpftrace' } });
  for (const [func, buckets] of hist.histograms) {
    summariser.add({
      kind: 'kfunc-latency',
      source: 'bpftrace',
      func: func as string,
      buckets: buckets.map((b) => ({
        count: b.count,
        ...(b.min === undefined ? {} : { min: b.min * scale }),
        ...(b.max === undefined ? {} : { max: (b.max + 1) * scale - 1 }),
      })),
    });
  }
  const coverage = Object.fromEntries(
    SECTION_NAMES.map((s): [SectionName, SectionCoverage] => [
      s,
      s === 'kfunc_latency_p99_us' ? { status: 'captured', source: 'bpftrace' } : { status: 'not_captured', reason: 'not in this test' },
    ]),
  ) as Record<SectionName, SectionCoverage>;
  return summariser.finish({
    workload: 'latency',
    capturedAt: '2026-11-26T18:00:00Z',
    durationSeconds: 3,
    coverage,
    backends: ['bpftrace'],
    stoppedBy: 'exit',
    exitCode: 0,
  });
}
