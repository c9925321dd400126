/**
 * Writes N Tetragon-style JSON events (one per line, `tetra getevents -o json` shapes: snake_case,
 * 64-bit ints as strings) for a ZTS-like workload: a zfs-tests.sh root whose tree execs zpool/zfs/dd/…,
 * syscalls as __x64_sys_* kprobes and raw_syscalls tracepoints, ioctl requests in the ZFS range,
 * security_file_permission on vdev files and results, a few tcp_connects, plus 5% of events from
 * unrelated processes that the tree filter must drop. Seeded, so every run writes the same bytes.
 *
 *   node dist/bench/generate-tetragon-events.js OUT.jsonl COUNT [SEED]
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const [out, countText, seedText] = process.argv.slice(2);
if (!out || !countText) {
  console.error('usage: generate-tetragon-events.js OUT.jsonl COUNT [SEED]');
  process.exit(2);
}
const count = Number(countText);
let state = Number(seedText ?? 42) >>> 0;
/** mulberry32 */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
function weighted<T>(table: readonly [T, number][]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [item, w] of table) if ((r -= w) < 0) return item;
  return (table[table.length - 1] as [T, number])[0];
}

const ROOT = 4000;
const binaries = [
  '/usr/sbin/zpool',
  '/usr/sbin/zfs',
  '/usr/bin/dd',
  '/usr/bin/diff',
  '/usr/bin/ksh',
  '/usr/bin/rm',
  '/usr/bin/mkdir',
  '/usr/bin/sync',
  '/usr/bin/cat',
  '/usr/bin/sleep',
];
const syscalls: [string, number][] = [
  ['openat', 30],
  ['read', 20],
  ['close', 15],
  ['write', 10],
  ['ioctl', 10],
  ['newfstatat', 8],
  ['fsync', 2],
  ['mount', 0.3],
  ['umount2', 0.3],
  ['unlinkat', 2],
];
const rawSyscallIds: [number, number][] = [
  [0, 30],
  [1, 15],
  [3, 20],
  [257, 25],
  [16, 10],
];
const zfsIoctls: [number, number][] = [
  [0x5a05, 30],
  [0x5a12, 20],
  [0x5a14, 20],
  [0x5a16, 8],
  [0x5a17, 5],
  [0x5a18, 5],
  [0x5a00, 2],
  [0x5a01, 2],
  [0x5a07, 1],
  [0x5a23, 7],
];
const startMs = Date.parse('2026-05-06T14:00:00Z');

interface Proc {
  pid: number;
  binary: string;
  args: string;
  execId: string;
  parent: Proc | undefined;
  cwd: string;
}
const rootProc: Proc = { pid: ROOT, binary: '/usr/share/zfs/zfs-tests.sh', args: '-v -r sanity', execId: execId(ROOT), parent: undefined, cwd: '/var/tmp' };
const shell: Proc = { pid: 3990, binary: '/bin/bash', args: '', execId: execId(3990), parent: undefined, cwd: '/root' };
rootProc.parent = shell;
const live: Proc[] = [rootProc];
const strangers: Proc[] = [
  { pid: 812, binary: '/usr/sbin/sshd', args: '-D', execId: execId(812), parent: undefined, cwd: '/' },
  { pid: 640, binary: '/usr/lib/systemd/systemd-journald', args: '', execId: execId(640), parent: undefined, cwd: '/' },
];
let nextPid = ROOT + 1;

function execId(pid: number): string {
  return Buffer.from(`zfslab-guest:${pid * 7919}:${pid}`).toString('base64');
}
function processJson(p: Proc): Record<string, unknown> {
  return {
    exec_id: p.execId,
    pid: p.pid,
    uid: 0,
    cwd: p.cwd,
    binary: p.binary,
    arguments: p.args,
    flags: 'execve clone',
    start_time: '2026-05-06T14:00:00.000000000Z',
    auid: 0,
    parent_exec_id: p.parent?.execId ?? 'b3JwaGFu',
    refcnt: 1,
    tid: p.pid,
  };
}
function time(i: number): string {
  const ms = startMs + Math.floor((i * 423_000) / count);
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

function event(i: number): Record<string, unknown> {
  const stranger = random() < 0.05;
  const proc = stranger ? pick(strangers) : pick(live);
  const parentJson = proc.parent ? processJson(proc.parent) : { exec_id: 'b3JwaGFu', pid: 1, binary: '/sbin/init' };
  const kind = random();
  if (!stranger && kind < 0.01) {
    const child: Proc = { pid: nextPid++, binary: pick(binaries), args: 'list -H', execId: '', parent: proc, cwd: proc.cwd };
    child.execId = execId(child.pid);
    live.push(child);
    if (live.length > 50) live.splice(1, 1);
    return { process_exec: { process: processJson(child), parent: processJson(proc) }, node_name: 'zfslab-guest', time: time(i) };
  }
  if (!stranger && kind < 0.02 && proc !== rootProc) {
    live.splice(live.indexOf(proc), 1);
    return { process_exit: { process: processJson(proc), parent: parentJson, status: 0 }, node_name: 'zfslab-guest', time: time(i) };
  }
  if (kind < 0.1) {
    return {
      process_tracepoint: {
        process: processJson(proc),
        parent: parentJson,
        subsys: 'raw_syscalls',
        event: 'sys_enter',
        args: [{ syscall_id: { id: weighted(rawSyscallIds), abi: 'x64' } }],
        policy_name: 'raw-syscalls',
        action: 'KPROBE_ACTION_POST',
      },
      node_name: 'zfslab-guest',
      time: time(i),
    };
  }
  if (kind < 0.2) {
    const path =
      random() < 0.6
        ? `/var/tmp/zfs-test-vdevs/disk${1 + Math.floor(random() * 5)}.img`
        : `/var/tmp/test_results/20260506T140000/output/cli_root/zpool_create_00${1 + Math.floor(random() * 9)}_pos/merged`;
    return {
      process_kprobe: {
        process: processJson(proc),
        parent: parentJson,
        function_name: 'security_file_permission',
        args: [{ file_arg: { path, permission: '-rw-r--r--' } }, { int_arg: random() < 0.5 ? 2 : 4 }],
        return: { int_arg: 0 },
        action: 'KPROBE_ACTION_POST',
        policy_name: 'file-monitoring',
        return_action: 'KPROBE_ACTION_POST',
      },
      node_name: 'zfslab-guest',
      time: time(i),
    };
  }
  if (kind < 0.201) {
    return {
      process_kprobe: {
        process: processJson(proc),
        parent: parentJson,
        function_name: 'tcp_connect',
        args: [
          {
            sock_arg: {
              family: 'AF_INET',
              type: 'SOCK_STREAM',
              protocol: 'IPPROTO_TCP',
              saddr: '10.0.2.15',
              daddr: pick(['10.0.2.2', '192.0.2.10']),
              sport: 40000 + Math.floor(random() * 20000),
              dport: pick([22, 9000]),
              cookie: '18446623716012137856',
              state: 'TCP_SYN_SENT',
            },
          },
        ],
        action: 'KPROBE_ACTION_POST',
        policy_name: 'connect',
        return_action: 'KPROBE_ACTION_POST',
      },
      node_name: 'zfslab-guest',
      time: time(i),
    };
  }
  const name = weighted(syscalls);
  const args = name === 'ioctl' ? [{ int_arg: 3 }, { size_arg: String(weighted(zfsIoctls)) }] : [{ int_arg: 3 }];
  return {
    process_kprobe: {
      process: processJson(proc),
      parent: parentJson,
      function_name: `__x64_sys_${name}`,
      args,
      action: 'KPROBE_ACTION_POST',
      policy_name: 'zfslab-syscalls',
      return_action: 'KPROBE_ACTION_POST',
    },
    node_name: 'zfslab-guest',
    time: time(i),
  };
}

const stream = createWriteStream(out);
let bytes = 0;
for (let i = 0; i < count; i++) {
  const line = JSON.stringify(event(i)) + '\n';
  bytes += line.length;
  if (!stream.write(line)) await once(stream, 'drain');
}
stream.end();
await once(stream, 'close');
console.error(`wrote ${count} events, ${(bytes / 1e6).toFixed(1)} MB, to ${out}`);
