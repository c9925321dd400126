import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../../core/fingerprint/events.js';
import { FingerprintSummariser } from '../../../core/fingerprint/summarise.js';
import { TetragonDecoder, TetragonEventError } from '../../../core/fingerprint/tetragon-events.js';
import { SECTION_NAMES, type SectionCoverage, type SectionName } from '../../../core/fingerprint/schema.js';
import { fixture } from './fixtures.js';

function decodeAll(text: string, decoder = new TetragonDecoder()): CaptureEvent[] {
  return text.split('\n').flatMap((line) => decoder.decodeLine(line));
}

describe('Tetragon JSON events (upstream docs and testdata)', () => {
  it('process_exec from testdata/events.json', () => {
    const events = decodeAll(fixture('tetragon', 'testdata-events.jsonl'));
    expect(events).toEqual([
      { kind: 'exec', source: 'tetragon', tid: 68790, ppid: 68598, binary: '/usr/bin/netserver', parentBinary: '/usr/bin/containerd-shim-runc-v2', cwd: '/' },
      { kind: 'exec', source: 'tetragon', tid: 68862, ppid: 68635, binary: '/starwars-docker', parentBinary: '/usr/bin/containerd-shim-runc-v2', cwd: '/' },
      { kind: 'exec', source: 'tetragon', tid: 68920, ppid: 68578, binary: '/starwars-docker', parentBinary: '/usr/bin/containerd-shim-runc-v2', cwd: '/' },
    ]);
  });

  it('security_file_permission with mask 2 is a write', () => {
    expect(decodeAll(fixture('tetragon', 'docs-filename-access-write.jsonl'))).toEqual([
      { kind: 'path', source: 'tetragon', tid: 64746, path: '/etc/passwd', modifies: true },
    ]);
  });

  it('__x64_sys_write counts as the write syscall', () => {
    expect(decodeAll(fixture('tetragon', 'docs-book-sys-write.jsonl'))).toEqual([{ kind: 'syscall', source: 'tetragon', name: 'write', count: 1 }]);
  });

  it('keeps only the tree under the root pid, with ioctl requests, syscall ids, connects and paths', () => {
    const events = decodeAll(fixture('tetragon', 'constructed-workload-tree.jsonl'), new TetragonDecoder({ rootPid: 500 }));
    expect(events).toEqual([
      { kind: 'exec', source: 'tetragon', tid: 500, ppid: 400, binary: '/usr/share/zfs/zfs-tests.sh', parentBinary: '/bin/bash', cwd: '/root' },
      { kind: 'exec', source: 'tetragon', tid: 501, ppid: 500, binary: '/usr/sbin/zpool', parentBinary: '/usr/share/zfs/zfs-tests.sh', cwd: '/var/tmp' },
      { kind: 'syscall', source: 'tetragon', name: 'ioctl', count: 1 },
      { kind: 'ioctl', source: 'tetragon', cmd: 0x5a00, count: 1 },
      { kind: 'path', source: 'tetragon', tid: 501, path: '/var/tmp/zfs-test-vdevs/disk1.img', modifies: true },
      { kind: 'syscall', source: 'tetragon', name: 'openat', count: 1 },
      { kind: 'connect', source: 'tetragon', family: 'inet', address: '192.0.2.10', port: 8080, count: 1 },
      { kind: 'exit', source: 'tetragon', tid: 501 },
    ]);
  });

  it('summarises Tetragon events into the sections it can fill', () => {
    const sources = Object.fromEntries(SECTION_NAMES.filter((s) => s !== 'kfunc_latency_p99_us').map((s) => [s, 'tetragon'])) as Partial<
      Record<SectionName, 'tetragon'>
    >;
    const summariser = new FingerprintSummariser({ zfsIoctlTable: '2.3', sources });
    for (const event of decodeAll(fixture('tetragon', 'constructed-workload-tree.jsonl'), new TetragonDecoder({ rootPid: 500 }))) summariser.add(event);
    const coverage = Object.fromEntries(
      SECTION_NAMES.map((s): [SectionName, SectionCoverage] => [
        s,
        s === 'kfunc_latency_p99_us' ? { status: 'not_captured', reason: 'Tetragon has no function latency' } : { status: 'captured', source: 'tetragon' },
      ]),
    ) as Record<SectionName, SectionCoverage>;
    const fp = summariser.finish({
      workload: 'zfs-tests.sh sanity',
      capturedAt: '2026-05-06T14:00:00Z',
      durationSeconds: 3,
      coverage,
      backends: ['tetragon'],
      stoppedBy: 'replay',
      exitCode: null,
    });
    expect(fp.binaries_spawned).toEqual([
      { path: '/usr/sbin/zpool', count: 1, parents: ['/usr/share/zfs/zfs-tests.sh'] },
      { path: '/usr/share/zfs/zfs-tests.sh', count: 1, parents: ['/bin/bash'] },
    ]);
    expect(fp.ioctl_codes).toEqual({ '0x5a00': { name: 'ZFS_IOC_POOL_CREATE', count: 1, rate_per_s: 0.3333 } });
    expect(fp.syscalls).toEqual({ ioctl: { count: 1, rate_per_s: 0.3333 }, openat: { count: 1, rate_per_s: 0.3333 } });
    expect(fp.network_destinations).toEqual([{ family: 'inet', address: '192.0.2.10', port: 8080, count: 1 }]);
    expect(fp.filesystem_paths_modified).toEqual(['/var/tmp/zfs-test-vdevs/disk1.img']);
    expect(fp.kfunc_latency_p99_us).toEqual({});
  });

  it('rejects malformed events', () => {
    const decoder = new TetragonDecoder();
    expect(() => decoder.decodeLine('{"process_exec": {"parent": {}}}')).toThrow(TetragonEventError);
    expect(() => decoder.decodeLine('not json')).toThrow(TetragonEventError);
    expect(decoder.decodeLine('{"process_loader": {"process": {"pid": 1}}}')).toEqual([]);
  });
});
