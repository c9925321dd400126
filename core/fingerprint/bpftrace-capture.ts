import type { BpftraceRecord } from './bpftrace-output.js';
import { AT_FDCWD, type CaptureEvent } from './events.js';
import { execSyscallNumbers, syscallName, type SyscallArch } from './syscall-table.js';

/**
 * The bpftrace program of a capture and the decoder of what it prints: one module, because the printf
 * lines are a protocol between the two.
 *
 * Scope: only the workload's process tree. `$1` is the pid of the launcher that will exec the workload;
 * a task becomes live when that pid enters execve/execveat, and every task forked by a live task is live
 * (sched_process_fork fires for threads too, so ids are task ids). Syscalls and ioctls are counted in
 * kernel maps (printed once at exit); execs, forks, exits, chdirs, opened/changed paths and connects are
 * printf'd as they happen (paths at syscall exit, with the result). Kernel-function latency (kprobe/kretprobe) is system-wide on purpose: ZFS does
 * its work in kernel threads (txg_sync, zio taskqs), which are not in the workload's tree.
 */

export interface CaptureProgramOptions {
  arch: SyscallArch;
  /** Syscall tracepoints present on the target (`openat` for syscalls:sys_enter_openat); absent ones are left out. */
  syscallTracepoints: ReadonlySet<string>;
  /** Kernel functions to time; only those present in /proc/kallsyms on a kernel with kprobe support. */
  kfuncs: readonly string[];
  /** The kernel has BTF (/sys/kernel/btf/vmlinux), so `curtask->real_parent` can be read. */
  btf: boolean;
  /**
   * How the root of the traced tree is found. `launcher` (default): `$1` is the pid that will exec the
   * workload. `exec`: the first task to exec this path after attaching becomes the root (capturing
   * alongside a workload someone else starts, e.g. zfs-tests.sh run by the ZTS activity); the program
   * prints `root` for it and `root-exit` when it exits.
   */
  root?: { mode: 'launcher' } | { mode: 'exec'; path: string };
  /**
   * Read the exec'd path at execve entry instead of from sched_process_exec's `filename`. Needed from
   * bpftrace 0.21 on (BTF-typed tracepoint args: the __data_loc string reads as empty, seen with 0.23.2
   * on kernel 6.12); not possible before (0.17 exceeds the 512-byte BPF stack printing a map string).
   */
  execPathAtEntry?: boolean;
}

/** `bpftrace v0.23.2` → whether sched_process_exec's __data_loc filename is unreadable (see execPathAtEntry). */
export function needsExecPathAtEntry(bpftraceVersion: string | undefined): boolean {
  const m = /v?(\d+)\.(\d+)/.exec(bpftraceVersion ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 0 || minor >= 21;
}

export const READY_MARKER = 'zfslab-ready';
/** BPFTRACE_STRLEN used by the capture (bpftrace 0.17's maximum); paths this long were cut. */
export const CAPTURE_STRLEN = 200;

/**
 * Syscalls with path arguments: [syscall, [dirfd field or null, path field][], flags field or null].
 * open* may only read; the others change the filesystem. The entry probe keeps the user pointers (not the
 * strings: a 200-byte string in a map overflows the 512-byte BPF stack when printed) and the exit probe
 * prints them with the result, so that failed changes (mkdir -p on an existing directory) are not
 * reported as changes.
 */
const PATH_SYSCALLS: readonly [string, readonly [string | null, string][], string | null][] = [
  ['open', [[null, 'filename']], 'flags'],
  ['openat', [['dfd', 'filename']], 'flags'],
  ['creat', [[null, 'pathname']], null],
  ['mkdir', [[null, 'pathname']], null],
  ['mkdirat', [['dfd', 'pathname']], null],
  ['unlink', [[null, 'pathname']], null],
  ['unlinkat', [['dfd', 'pathname']], null],
  ['rmdir', [[null, 'pathname']], null],
  [
    'rename',
    [
      [null, 'oldname'],
      [null, 'newname'],
    ],
    null,
  ],
  [
    'renameat',
    [
      ['olddfd', 'oldname'],
      ['newdfd', 'newname'],
    ],
    null,
  ],
  [
    'renameat2',
    [
      ['olddfd', 'oldname'],
      ['newdfd', 'newname'],
    ],
    null,
  ],
  ['truncate', [[null, 'path']], null],
  ['link', [[null, 'newname']], null],
  ['linkat', [['newdfd', 'newname']], null],
  ['symlink', [[null, 'newname']], null],
  ['symlinkat', [['newdfd', 'newname']], null],
  ['mknod', [[null, 'filename']], null],
  ['mknodat', [['dfd', 'filename']], null],
];

export function captureProgram(options: CaptureProgramOptions): string {
  const has = (name: string) => options.syscallTracepoints.has(name);
  const execNrs = execSyscallNumbers(options.arch);
  if (execNrs.length === 0) throw new Error(`no execve numbers for ${options.arch}`);
  const lines: string[] = [];
  const add = (...text: string[]) => lines.push(...text);

  const root = options.root ?? { mode: 'launcher' };
  if (root.mode === 'exec' && !/^\/[^"\\\n]*$/.test(root.path)) throw new Error(`not an absolute path bpftrace can compare: ${root.path}`);
  // BEGIN runs once every probe is attached: only then may the launcher's execve start the tree (probes
  // attach one by one over seconds, and anything the launcher does meanwhile is not the workload).
  add(`BEGIN { @armed = 1; printf("${READY_MARKER}\\n"); }`, '');
  if (root.mode === 'launcher') {
    add(
      'tracepoint:raw_syscalls:sys_enter /@live[tid] || tid == $1/ {',
      `  if (@live[tid] == 0 && @armed && (${execNrs.map((nr) => `args->id == ${nr}`).join(' || ')})) { @live[tid] = 1; }`,
      '  if (@live[tid]) { @syscalls[args->id] = count(); }',
      '}',
      '',
    );
  } else {
    add('tracepoint:raw_syscalls:sys_enter /@live[tid]/ { @syscalls[args->id] = count(); }', '');
  }
  // The exec'd path: sched_process_exec's `filename` (a __data_loc string), or, where bpftrace cannot
  // read that (execPathAtEntry), the path given to execve/execveat (a plain user pointer), kept per task
  // and looked up at the exec by the task's pre-exec id (`old_pid`: a non-leader thread's exec takes the
  // leader's id).
  const execPathAtEntry = options.execPathAtEntry === true && has('execve');
  const execPath = execPathAtEntry ? '@xp[args->old_pid]' : 'str(args->filename)';
  if (execPathAtEntry) {
    // @xs marks the tasks @xp holds a path for: deleting a key that is not there is a helper error.
    add('tracepoint:syscalls:sys_enter_execve { @xp[tid] = str(args->filename); @xs[tid] = 1; }');
    if (has('execveat')) add('tracepoint:syscalls:sys_enter_execveat { @xp[tid] = str(args->filename); @xs[tid] = 1; }');
    add('');
  }
  const execPrint = options.btf
    ? `  if (@live[tid]) { printf("exec\\t%d\\t%d\\t%s\\n", tid, curtask->real_parent->tgid, ${execPath}); }`
    : `  if (@live[tid]) { printf("exec\\t%d\\t-1\\t%s\\n", tid, ${execPath}); }`;
  const forgetExecPath = execPathAtEntry ? ['  if (@xs[args->old_pid]) { delete(@xp[args->old_pid]); delete(@xs[args->old_pid]); }'] : [];
  add(
    'tracepoint:sched:sched_process_fork /@live[args->parent_pid]/ {',
    '  @live[args->child_pid] = 1;',
    '  printf("fork\\t%d\\t%d\\n", args->child_pid, args->parent_pid);',
    '}',
    '',
    ...(root.mode === 'launcher'
      ? ['tracepoint:sched:sched_process_exec {', execPrint, ...forgetExecPath, '}']
      : [
          'tracepoint:sched:sched_process_exec {',
          `  if (@root == 0 && @armed && ${execPath} == "${root.path}") { @root = tid; @live[tid] = 1; printf("root\\t%d\\t%lu\\n", tid, nsecs); }`,
          execPrint,
          ...forgetExecPath,
          '}',
        ]),
    '',
    // A failed execve leaves its path behind until the task's next exec or its exit.
    ...(execPathAtEntry ? ['tracepoint:sched:sched_process_exit /@xs[tid]/ { delete(@xp[tid]); delete(@xs[tid]); }', ''] : []),
    'tracepoint:sched:sched_process_exit /@live[tid]/ {',
    '  printf("exit\\t%d\\n", tid);',
    ...(root.mode === 'exec' ? ['  if (tid == @root) { printf("root-exit\\t%lu\\n", nsecs); }'] : []),
    '  delete(@live[tid]);',
    '}',
    '',
  );
  const usesChdir = has('chdir');
  if (usesChdir) {
    add(
      // The path is printed at entry and the result at exit (a 200-byte string kept in a map between
      // the two would exceed the 512-byte BPF stack when printed).
      'tracepoint:syscalls:sys_enter_chdir /@live[tid]/ { printf("chdir\\t%d\\t%s\\n", tid, str(args->filename)); }',
      'tracepoint:syscalls:sys_exit_chdir /@live[tid]/ { printf("chdirret\\t%d\\t%d\\n", tid, args->ret); }',
      '',
    );
  }
  if (has('fchdir')) {
    // fchdir names a directory by fd, which cannot be turned back into a path here: the cwd becomes unknown.
    add('tracepoint:syscalls:sys_exit_fchdir /@live[tid] && args->ret == 0/ { printf("fchdirok\\t%d\\n", tid); }');
  }
  const slots = ['a', 'b'];
  for (const [syscall, paths, flags] of PATH_SYSCALLS) {
    if (!has(syscall)) continue;
    const keep = paths.flatMap(([dirfd, path], i) => [
      `@p${slots[i]}[tid] = (uint64)args->${path};`,
      `@d${slots[i]}[tid] = ${dirfd ? `args->${dirfd}` : AT_FDCWD};`,
    ]);
    if (flags) keep.push(`@fl[tid] = args->${flags};`);
    add(`tracepoint:syscalls:sys_enter_${syscall} /@live[tid]/ { ${keep.join(' ')} }`);
    const print = paths.map((_, i) => {
      const slot = slots[i] as string;
      return flags
        ? `printf("open\\t%d\\t%d\\t%d\\t%d\\t%s\\n", tid, @d${slot}[tid], @fl[tid], args->ret, str(uptr(@p${slot}[tid])));`
        : `printf("mod\\t%d\\t%d\\t%d\\t%s\\n", tid, @d${slot}[tid], args->ret, str(uptr(@p${slot}[tid])));`;
    });
    const forget = paths.flatMap((_, i) => [`delete(@p${slots[i]}[tid]);`, `delete(@d${slots[i]}[tid]);`]);
    if (flags) forget.push('delete(@fl[tid]);');
    add(`tracepoint:syscalls:sys_exit_${syscall} /@live[tid] && @pa[tid]/ { ${print.join(' ')} ${forget.join(' ')} }`);
  }
  add('');
  if (has('ioctl')) add('tracepoint:syscalls:sys_enter_ioctl /@live[tid]/ { @ioctl[args->cmd] = count(); }', '');
  if (has('connect')) {
    add(
      'tracepoint:syscalls:sys_enter_connect /@live[tid]/ {',
      '  $sa = (uint64)args->uservaddr;',
      '  $family = *(uint16 *)uptr($sa);',
      '  if ($family == 2) {',
      '    printf("conn4\\t%d\\t%s\\t%d\\n", tid, ntop(2, *(uint32 *)uptr($sa + 4)), bswap(*(uint16 *)uptr($sa + 2)));',
      '  } else if ($family == 10) {',
      '    printf("conn6\\t%d\\t%016lx\\t%016lx\\t%d\\n", tid, bswap(*(uint64 *)uptr($sa + 8)), bswap(*(uint64 *)uptr($sa + 16)), bswap(*(uint16 *)uptr($sa + 2)));',
      '  } else if ($family == 1) {',
      '    printf("connu\\t%d\\t%s\\n", tid, str(uptr($sa + 2)));',
      '  }',
      '}',
      '',
    );
  }
  options.kfuncs.forEach((func, index) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(func)) throw new Error(`not a kernel function name: ${func}`);
    add(
      `kprobe:${func} { @kstart[tid, ${index}] = nsecs; }`,
      `kretprobe:${func} /@kstart[tid, ${index}]/ {`,
      `  @kfunc_ns["${func}"] = hist(nsecs - @kstart[tid, ${index}]);`,
      `  @kfunc_calls["${func}"] = count();`,
      `  delete(@kstart[tid, ${index}]);`,
      '}',
    );
  });
  const usedPathSlots = PATH_SYSCALLS.filter(([syscall]) => has(syscall));
  const scratch = [
    '@live',
    '@armed',
    ...(root.mode === 'exec' ? ['@root'] : []),
    ...(execPathAtEntry ? ['@xp', '@xs'] : []),
    ...(usedPathSlots.length > 0 ? ['@pa', '@da'] : []),
    ...(usedPathSlots.some(([, paths]) => paths.length > 1) ? ['@pb', '@db'] : []),
    ...(usedPathSlots.some(([, , flags]) => flags !== null) ? ['@fl'] : []),
    ...(options.kfuncs.length > 0 ? ['@kstart'] : []),
  ];
  add('', `END { ${scratch.map((m) => `clear(${m});`).join(' ')} }`, '');
  return lines.join('\n');
}

/** What the decoder needs to know about the capture that printed the records. */
export interface DecodeContext {
  arch: SyscallArch;
  strlen: number;
}

const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

/** True when open(2) flags can change the file (write access, create or truncate). */
export function openModifies(flags: number): boolean {
  return (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
}

/** Splits a printf line into `count` tab-separated fields, the last one keeping any tabs (paths may hold them). */
function fields(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < count - 1; i++) {
    const tab = rest.indexOf('\t');
    if (tab < 0) return undefined;
    out.push(rest.slice(0, tab));
    rest = rest.slice(tab + 1);
  }
  out.push(rest);
  return out;
}

function int(text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(value)) throw new Error(`not an integer: ${text}`);
  return value;
}

/** Formats the two big-endian halves of an IPv6 address (as printed by the program) in RFC 5952 form. */
export function ipv6FromHalves(high: string, low: string): string {
  const hex = (high.padStart(16, '0') + low.padStart(16, '0')).toLowerCase();
  const groups = [];
  for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16).toString(16));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/**
 * Turns one record of the capture program's output into capture events. Throws on a printf line that
 * does not follow the protocol (a sign that program and decoder disagree).
 */
export function decodeCaptureRecord(record: BpftraceRecord, context: DecodeContext): CaptureEvent[] {
  const source = 'bpftrace' as const;
  switch (record.type) {
    case 'printf':
      return decodePrintf(record.text.endsWith('\n') ? record.text.slice(0, -1) : record.text, context);
    case 'lost_events':
      return [{ kind: 'lost', source, count: record.events }];
    case 'map':
      if (record.name === '@syscalls')
        return [...record.values].map(([nr, count]) => ({ kind: 'syscall', source, name: syscallName(context.arch, int(nr)), count }));
      if (record.name === '@ioctl') return [...record.values].map(([cmd, count]) => ({ kind: 'ioctl', source, cmd: int(cmd) >>> 0, count }));
      return [];
    case 'hist':
      if (record.name !== '@kfunc_ns') return [];
      return [...record.histograms].flatMap(([func, buckets]) => (func === undefined ? [] : [{ kind: 'kfunc-latency' as const, source, func, buckets }]));
    default:
      return [];
  }
}

function decodePrintf(text: string, context: DecodeContext): CaptureEvent[] {
  const source = 'bpftrace' as const;
  const tag = text.slice(0, text.indexOf('\t') < 0 ? text.length : text.indexOf('\t'));
  const truncated = (path: string) => path.length >= context.strlen - 1;
  const bad = () => new Error(`capture printf line does not follow the protocol: ${JSON.stringify(text)}`);
  switch (tag) {
    case READY_MARKER:
    case 'root':
    case 'root-exit':
      return [];
    case 'exec': {
      const f = fields(text, 4) ?? [];
      if (f.length !== 4) throw bad();
      return [{ kind: 'exec', source, tid: int(f[1]), ppid: int(f[2]), binary: f[3] as string }];
    }
    case 'fork': {
      const f = fields(text, 3) ?? [];
      if (f.length !== 3) throw bad();
      return [{ kind: 'fork', source, tid: int(f[1]), parentTid: int(f[2]) }];
    }
    case 'exit':
      return [{ kind: 'exit', source, tid: int(fields(text, 2)?.[1]) }];
    case 'chdir': {
      const f = fields(text, 3) ?? [];
      if (f.length !== 3) throw bad();
      return [{ kind: 'chdir', source, tid: int(f[1]), path: f[2] as string }];
    }
    case 'chdirret': {
      const f = fields(text, 3) ?? [];
      if (f.length !== 3) throw bad();
      return [{ kind: 'chdir-result', source, tid: int(f[1]), ok: int(f[2]) === 0 }];
    }
    case 'open': {
      // A failed open for writing changed nothing; a failed open for reading is still what the workload looked for.
      const f = fields(text, 6) ?? [];
      if (f.length !== 6) throw bad();
      const path = f[5] as string;
      const modifies = openModifies(int(f[3]));
      if (modifies && int(f[4]) < 0) return [];
      return [{ kind: 'path', source, tid: int(f[1]), dirfd: int(f[2]), modifies, path, truncated: truncated(path) }];
    }
    case 'mod': {
      const f = fields(text, 5) ?? [];
      if (f.length !== 5) throw bad();
      if (int(f[3]) < 0) return [];
      const path = f[4] as string;
      return [{ kind: 'path', source, tid: int(f[1]), dirfd: int(f[2]), modifies: true, path, truncated: truncated(path) }];
    }
    case 'fchdirok':
      return [{ kind: 'chdir-result', source, tid: int(fields(text, 2)?.[1]), ok: true, unknown: true }];
    case 'conn4': {
      const f = fields(text, 4) ?? [];
      if (f.length !== 4) throw bad();
      return [{ kind: 'connect', source, family: 'inet', address: f[2] as string, port: int(f[3]), count: 1 }];
    }
    case 'conn6': {
      const f = fields(text, 5) ?? [];
      if (f.length !== 5) throw bad();
      return [{ kind: 'connect', source, family: 'inet6', address: ipv6FromHalves(f[2] as string, f[3] as string), port: int(f[4]), count: 1 }];
    }
    case 'connu': {
      const f = fields(text, 3) ?? [];
      if (f.length !== 3) throw bad();
      // An abstract socket's name starts with a NUL byte, so str() reads it as empty.
      return [{ kind: 'connect', source, family: 'unix', address: f[2] === '' ? '@' : (f[2] as string), port: 0, count: 1 }];
    }
    default:
      throw bad();
  }
}
