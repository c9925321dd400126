import { describe, expect, it } from 'vitest';
import { captureProgram, decodeCaptureRecord, ipv6FromHalves, needsExecPathAtEntry, openModifies } from '../../../core/fingerprint/bpftrace-capture.js';
import { parseBpftraceJsonLine } from '../../../core/fingerprint/bpftrace-output.js';
import { planCapture } from '../../../core/fingerprint/capture-plan.js';
import { parseProbeOutput } from '../../../core/fingerprint/capture-script.js';
import { parseFingerprint } from '../../../core/fingerprint/schema.js';
import { fixture } from './fixtures.js';
import { LAB_HOST_PROBE, replayCapture } from './replay.js';

const SCRIPT = '/work/main/test/fixtures/fingerprint/capture/workload.sh';
const OUT = '/tmp/fpx/scratch';

describe('replaying the real capture of workload.sh', () => {
  const fp = replayCapture(fixture('capture', 'raw-capture.jsonl'));

  it('is a valid fingerprint', () => {
    expect(parseFingerprint(JSON.parse(JSON.stringify(fp)))).toEqual({ ok: true, value: fp });
  });

  it('has exactly the binaries the script execs, with their parent', () => {
    expect(fp.binaries_spawned.map((b) => [b.path, b.count, b.parents])).toEqual([
      ['/usr/bin/true', 2, [SCRIPT]],
      ['/usr/bin/cat', 1, [SCRIPT]],
      ['/usr/bin/mkdir', 1, [SCRIPT]],
      ['/usr/bin/mv', 1, [SCRIPT]],
      ['/usr/bin/python3', 1, [SCRIPT]],
      ['/usr/bin/rm', 1, [SCRIPT]],
      [SCRIPT, 1, []],
    ]);
    expect(fp.syscalls.execve?.count).toBe(8);
  });

  it('counts the 333 sched_yield calls exactly', () => {
    expect(fp.syscalls.sched_yield?.count).toBe(333);
  });

  it('has the destinations python connected to', () => {
    expect(fp.network_destinations).toEqual([
      { family: 'inet6', address: '::1', port: 9, count: 1 },
      { family: 'unix', address: '/run/zfslab-no-such.sock', port: 0, count: 1 },
      { family: 'inet', address: '127.0.0.1', port: 9, count: 1 },
    ]);
  });

  it('has the files written, relative ones resolved after cd, failed mkdirs left out, fchdir-relative ones marked', () => {
    expect(fp.filesystem_paths_modified).toEqual([
      '(cwd)/a',
      '(dirfd)/a',
      '(dirfd)/b',
      '(dirfd)/moved.txt',
      `${OUT}/copy-1.txt`,
      `${OUT}/note-*.txt`,
      `${OUT}/rel.txt`,
      `${OUT}/tree`,
      `${OUT}/tree/a/moved.txt`,
      `${OUT}/tree/b`,
    ]);
    expect(fp.filesystem_paths_read).toContain('/etc/hostname');
    expect(fp.filesystem_paths_read).toContain(SCRIPT);
    expect(fp.filesystem_paths_read.some((p) => p.startsWith(OUT))).toBe(false);
  });

  it('says which sections it could not fill, and why', () => {
    expect(fp.capture.sections.kfunc_latency_p99_us).toEqual({
      status: 'not_captured',
      reason: 'kprobes unavailable: /sys/kernel/tracing/kprobe_events is missing (kernel without CONFIG_KPROBE_EVENTS)',
    });
    expect(fp.kfunc_latency_p99_us).toEqual({});
    expect(fp.capture.sections.syscalls).toEqual({ status: 'captured', source: 'bpftrace' });
    expect(fp.ioctl_codes).toEqual({ '0x5401': { name: 'TCGETS', count: 21, rate_per_s: expect.any(Number) } });
  });
});

describe('the capture program', () => {
  const facts = parseProbeOutput(LAB_HOST_PROBE);

  it('includes only tracepoints the target has, and kprobes only when asked', () => {
    const program = captureProgram({ arch: 'x86_64', syscallTracepoints: new Set(['ioctl']), kfuncs: [], btf: true });
    expect(program).toContain('tracepoint:syscalls:sys_enter_ioctl');
    expect(program).not.toContain('sys_enter_openat');
    expect(program).not.toContain('kprobe:');
    const withKprobes = captureProgram({ arch: 'x86_64', syscallTracepoints: facts.syscallTracepoints, kfuncs: ['zio_done'], btf: false });
    expect(withKprobes).toContain('kretprobe:zio_done');
    expect(withKprobes).toContain('printf("exec\\t%d\\t-1\\t%s\\n"');
    expect(() => captureProgram({ arch: 'x86_64', syscallTracepoints: new Set(), kfuncs: ['bad name'], btf: true })).toThrow();
  });

  it("reads the exec path at execve entry where bpftrace cannot read sched_process_exec's __data_loc filename (0.21+)", () => {
    expect(['bpftrace v0.17.0', 'bpftrace v0.20.4', undefined].map(needsExecPathAtEntry)).toEqual([false, false, false]);
    expect(['bpftrace v0.21.0', 'bpftrace v0.23.2', 'bpftrace v1.0.0'].map(needsExecPathAtEntry)).toEqual([true, true, true]);
    const follow = { mode: 'exec' as const, path: '/usr/share/zfs/zfs-tests.sh' };
    const old = captureProgram({ arch: 'x86_64', syscallTracepoints: facts.syscallTracepoints, kfuncs: [], btf: true, root: follow });
    expect(old).toContain('str(args->filename) == "/usr/share/zfs/zfs-tests.sh"');
    expect(old).not.toContain('@xp');
    const entry = captureProgram({ arch: 'x86_64', syscallTracepoints: facts.syscallTracepoints, kfuncs: [], btf: true, root: follow, execPathAtEntry: true });
    expect(entry).toContain('tracepoint:syscalls:sys_enter_execve { @xp[tid] = str(args->filename); @xs[tid] = 1; }');
    expect(entry).toContain('@xp[args->old_pid] == "/usr/share/zfs/zfs-tests.sh"');
    expect(entry).toContain('curtask->real_parent->tgid, @xp[args->old_pid]);');
    // bpftrace 0.23's diagnostics (no `data`) are records to skip, not garbage.
    expect(
      parseBpftraceJsonLine(
        '{"type": "helper_error", "msg": "Can\'t delete map element because it does not exist.", "helper": "map_delete_elem", "retcode": -2}',
      ),
    ).toEqual({ type: 'other', rawType: 'helper_error' });
  });

  it('plans kprobes from kallsyms and says what is absent', () => {
    const withZfs = parseProbeOutput(
      `${LAB_HOST_PROBE}\nkprobe_events=yes\nzfs_version=2.3.9-1\nkallsyms ffffffffc0a1b2c0 t zio_done\t[zfs]\nkallsyms ffffffffc0a1c000 T dsl_pool_sync\t[zfs]`,
    );
    const plan = planCapture(withZfs, {});
    expect(plan.kfuncs.probe).toEqual(['zio_done', 'dsl_pool_sync']);
    expect(plan.kfuncs.absent).toContain('arc_evict');
    expect(plan.coverage.kfunc_latency_p99_us).toMatchObject({ status: 'captured', note: expect.stringContaining('arc_evict') });
    expect(plan.zfsIoctlTable).toBe('2.3');
    expect(plan.program).toContain('kprobe:dsl_pool_sync');
  });

  it('refuses to plan bpftrace without root or tracefs', () => {
    expect(planCapture(parseProbeOutput(LAB_HOST_PROBE.replace('uid=0', 'uid=1000'))).program).toBeUndefined();
    const noTracefs = planCapture(parseProbeOutput('uid=0\narch=x86_64\nbpftrace=bpftrace v0.17.0\ntracefs_error=mount: permission denied'));
    expect(noTracefs.coverage.syscalls).toEqual({
      status: 'not_captured',
      reason: 'tracefs is not mounted and could not be mounted: mount: permission denied',
    });
  });
});

describe('the printf protocol', () => {
  const decode = (data: string) => decodeCaptureRecord({ type: 'printf', text: data }, { arch: 'x86_64', strlen: 200 });

  it('decodes each line kind', () => {
    expect(decode('exec\t10\t9\t/bin/true\n')).toEqual([{ kind: 'exec', source: 'bpftrace', tid: 10, ppid: 9, binary: '/bin/true' }]);
    expect(decode('open\t10\t-100\t577\t3\t/tmp/a\tb\n')).toEqual([
      { kind: 'path', source: 'bpftrace', tid: 10, dirfd: -100, modifies: true, path: '/tmp/a\tb', truncated: false },
    ]);
    expect(decode('open\t10\t-100\t577\t-13\t/etc/x\n')).toEqual([]);
    expect(decode('open\t10\t-100\t0\t-2\t/etc/missing\n')).toEqual([
      { kind: 'path', source: 'bpftrace', tid: 10, dirfd: -100, modifies: false, path: '/etc/missing', truncated: false },
    ]);
    expect(decode('mod\t10\t-100\t-17\t/tmp\n')).toEqual([]);
    expect(decode(`mod\t10\t-100\t0\t/${'x'.repeat(198)}\n`)[0]).toMatchObject({ truncated: true });
    expect(decode('conn6\t10\t20010db800000000\t0000000000010002\t8080\n')).toEqual([
      { kind: 'connect', source: 'bpftrace', family: 'inet6', address: '2001:db8::1:2', port: 8080, count: 1 },
    ]);
    expect(decode('connu\t10\t\n')).toEqual([{ kind: 'connect', source: 'bpftrace', family: 'unix', address: '@', port: 0, count: 1 }]);
    expect(() => decode('exec\t10\n')).toThrow(/protocol/);
    expect(() => decode('surprise\t1\n')).toThrow(/protocol/);
  });

  it('decodes the maps and lost events', () => {
    const maps = [
      '{"type": "map", "data": {"@ioctl": {"23045": 2}}}',
      '{"type": "map", "data": {"@syscalls": {"24": 333}}}',
      '{"type": "lost_events", "data": {"events": 7}}',
    ].flatMap((line) => decodeCaptureRecord(parseBpftraceJsonLine(line)!, { arch: 'x86_64', strlen: 200 }));
    expect(maps).toEqual([
      { kind: 'ioctl', source: 'bpftrace', cmd: 0x5a05, count: 2 },
      { kind: 'syscall', source: 'bpftrace', name: 'sched_yield', count: 333 },
      { kind: 'lost', source: 'bpftrace', count: 7 },
    ]);
  });

  it('formats IPv6 and open flags', () => {
    expect(ipv6FromHalves('0000000000000000', '0000000000000001')).toBe('::1');
    expect(ipv6FromHalves('fe80000000000000', '0202b3fffe1e8329')).toBe('fe80::202:b3ff:fe1e:8329');
    expect(openModifies(0)).toBe(false); // O_RDONLY
    expect(openModifies(0o2000000)).toBe(false); // O_CLOEXEC
    expect(openModifies(1)).toBe(true); // O_WRONLY
    expect(openModifies(0o100)).toBe(true); // O_CREAT
  });
});
