import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DetectionReport } from '../../../core/fingerprint/detect.js';
import { pathPattern } from '../../../core/fingerprint/path-glob.js';
import { parseFingerprint, type Fingerprint } from '../../../core/fingerprint/schema.js';
import { runFingerprintCli } from '../../unit/fingerprint/cli-harness.js';

/**
 * Real captures on this machine: bpftrace attaches to tracepoints, a real workload runs, and the
 * fingerprint must hold exactly what the workload did. Needs root and bpftrace (the lab host has both;
 * kprobes do not work here, which the fingerprint must say rather than invent).
 */
const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0;

const WORKLOAD = `#!/bin/sh
# $1: scratch directory; $2: "extra" adds one exec (id) and one ZFS ioctl (ZFS_IOC_POOL_STATS on /dev/null).
set -e
out="$1"
/usr/bin/true
/usr/bin/true
/usr/bin/cat /etc/hostname > "$out/copy-1.txt"
echo one > "$out/note-1.txt"
echo two > "$out/note-2.txt"
/usr/bin/python3 -I -S -B -c 'import os
for _ in range(333):
    os.sched_yield()
'
if [ "\${2:-}" = extra ]; then
  /usr/bin/id > /dev/null
  /usr/bin/python3 -I -S -B -c 'import fcntl, os
fd = os.open("/dev/null", os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0x5a05)
except OSError:
    pass
'
fi
`;

function read(path: string): Fingerprint {
  const parsed = parseFingerprint(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.issues.join('\n'));
  return parsed.value;
}

describe.runIf(canCapture)('real capture of a real workload on this host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-fp-real-'));
  const script = join(dir, 'workload.sh');
  writeFileSync(script, WORKLOAD);
  chmodSync(script, 0o755);
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-fp-scratch-'));

  it('fingerprints exactly what the workload did, and says what it could not capture', { timeout: 180_000 }, async () => {
    const result = await runFingerprintCli([
      'fingerprint',
      'capture',
      '--out',
      join(dir, 'base.json'),
      '--raw',
      join(dir, 'base.jsonl'),
      '--',
      script,
      scratch,
    ]);
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    const fp = read(join(dir, 'base.json'));
    expect(fp.capture.exit_code).toBe(0);
    // Most spawned first, ties by path (the scratch dir is under /tmp, before /usr).
    expect(fp.binaries_spawned.map((b) => [b.path, b.count, b.parents])).toEqual([
      ['/usr/bin/true', 2, [script]],
      [script, 1, []],
      ['/usr/bin/cat', 1, [script]],
      ['/usr/bin/python3', 1, [script]],
    ]);
    expect(fp.syscalls.execve?.count).toBe(5);
    expect(fp.syscalls.sched_yield?.count).toBe(333);
    // mkdtemp's random suffix is globbed away (so that reruns in fresh directories match), the rest is exact.
    expect(fp.filesystem_paths_modified).toEqual([`${pathPattern(scratch)}/copy-1.txt`, `${pathPattern(scratch)}/note-*.txt`]);
    expect(fp.filesystem_paths_read).toContain('/etc/hostname');
    expect(fp.filesystem_paths_read).toContain(pathPattern(script));
    expect(Object.keys(fp.ioctl_codes).filter((hex) => hex.startsWith('0x5a'))).toEqual([]);
    expect(fp.network_destinations).toEqual([]);
    expect(fp.capture.sections.kfunc_latency_p99_us).toEqual({
      status: 'not_captured',
      reason: 'kprobes unavailable: /sys/kernel/tracing/kprobe_events is missing (kernel without CONFIG_KPROBE_EVENTS)',
    });
    expect(fp.kfunc_latency_p99_us).toEqual({});
    // The raw stream replays to the same fingerprint.
    const replay = await runFingerprintCli(['--json', 'fingerprint', 'summarise', join(dir, 'base.jsonl')]);
    expect(replay.code).toBe(0);
    const replayed = JSON.parse(replay.stdout) as Fingerprint;
    expect({ ...replayed, capture: { ...replayed.capture, stopped_by: 'exit' } }).toEqual(fp);
  });

  it('flags an extra exec and an extra ZFS ioctl as schema drift, exit 1', { timeout: 180_000 }, async () => {
    const capture = await runFingerprintCli(['fingerprint', 'capture', '--out', join(dir, 'extra.json'), '--', script, scratch, 'extra']);
    expect(capture.code).toBe(0);
    const detect = await runFingerprintCli(['--json', 'fingerprint', 'detect', join(dir, 'base.json'), join(dir, 'extra.json')]);
    expect(detect.code).toBe(1);
    const report = JSON.parse(detect.stdout) as DetectionReport;
    const schema = report.deviations.filter((d) => d.drift === 'schema' && d.kind === 'new');
    expect(schema).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ category: 'binaries_spawned', key: '/usr/bin/id', severity: 'high' }),
        expect.objectContaining({ category: 'ioctl_codes', key: '0x5a05', severity: 'high', message: 'new ioctl 0x5a05 (ZFS_IOC_POOL_STATS) (1×)' }),
      ]),
    );
    const human = await runFingerprintCli(['fingerprint', 'detect', join(dir, 'base.json'), join(dir, 'extra.json')]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/high\s+schema\s+binaries_spawned\s+new binary \/usr\/bin\/id/);
  });

  it('a rerun of the same workload is stable; the derived tolerances accept it (exit 0)', { timeout: 180_000 }, async () => {
    const capture = await runFingerprintCli(['fingerprint', 'capture', '--out', join(dir, 'again.json'), '--', script, scratch]);
    expect(capture.code).toBe(0);
    const verify = await runFingerprintCli([
      '--json',
      'fingerprint',
      'verify',
      join(dir, 'base.json'),
      join(dir, 'again.json'),
      '--tolerances',
      join(dir, 'tol.json'),
    ]);
    const stability = JSON.parse(verify.stdout) as { stable: boolean; tolerances: { rate_basis: string } };
    expect(stability.tolerances.rate_basis).toBe('count');
    expect(verify.code).toBe(stability.stable ? 0 : 1);
    const detect = await runFingerprintCli(['fingerprint', 'detect', join(dir, 'base.json'), join(dir, 'again.json'), '--tolerances', join(dir, 'tol.json')]);
    expect(detect.stdout).toMatch(/no deviations/);
    expect(detect.code).toBe(0);
  });
});

describe.runIf(canCapture)('a duration-bounded capture', () => {
  it('stops the whole workload tree at --duration and says so', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-fp-duration-'));
    const result = await runFingerprintCli([
      'fingerprint',
      'capture',
      '--duration',
      '2',
      '--out',
      join(dir, 'fp.json'),
      '--',
      '/bin/sh',
      '-c',
      '/usr/bin/sleep 60; echo never',
    ]);
    expect(result.error).toBeUndefined();
    const fp = read(join(dir, 'fp.json'));
    expect(fp.capture.stopped_by).toBe('duration');
    expect(fp.capture.exit_code).toBe(143); // SIGTERM to the process group
    expect(fp.duration_s).toBeGreaterThanOrEqual(1.9);
    expect(fp.duration_s).toBeLessThan(10);
    expect(fp.binaries_spawned.map((b) => b.path).sort()).toEqual(['/bin/sh', '/usr/bin/sleep']);
  });
});

describe('detect on bad input exits 2', () => {
  it('missing file, not JSON, not a fingerprint, wrong schema version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-fp-bad-'));
    writeFileSync(join(dir, 'text.json'), 'hello');
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ workload: 'x' }));
    writeFileSync(join(dir, 'v9.json'), JSON.stringify({ schema_version: 9 }));
    for (const [a, b, message] of [
      [join(dir, 'nope.json'), join(dir, 'nope.json'), /cannot read fingerprint file/],
      [join(dir, 'text.json'), join(dir, 'text.json'), /is not JSON/],
      [join(dir, 'other.json'), join(dir, 'other.json'), /is not a valid fingerprint/],
      [join(dir, 'v9.json'), join(dir, 'v9.json'), /this zfslab reads version 1/],
    ] as const) {
      const result = await runFingerprintCli(['fingerprint', 'detect', a, b]);
      expect(result.code).toBe(2);
      expect(result.error).toMatch(message);
    }
    expect((await runFingerprintCli(['fingerprint', 'detect', join(dir, 'only-one.json')])).code).toBe(2);
  });
});
