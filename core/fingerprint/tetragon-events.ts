import { z } from 'zod';
import type { CaptureEvent } from './events.js';
import { syscallName } from './syscall-table.js';

/**
 * Tetragon JSON events (`tetra getevents -o json`, or the agent's export file): one object per line
 * with a single event key (`process_exec`, `process_exit`, `process_kprobe`, `process_tracepoint`, …)
 * plus `node_name` and `time`. Field names are snake_case; 64-bit integers (size_arg, long_arg) are
 * strings. Shapes follow Tetragon's own docs and testdata (test/fixtures/fingerprint/tetragon/README.md).
 *
 * What becomes what:
 *   process_exec                       → exec (binary, parent binary, cwd)
 *   process_exit                       → exit
 *   process_kprobe  __x64_sys_<name>   → syscall <name> (+ ioctl request from args[1] for sys_ioctl)
 *   process_kprobe  tcp_connect        → connect (sock_arg daddr/dport)
 *   process_kprobe  security_file_permission → path (int_arg mask 2 = MAY_WRITE modifies, 4 = MAY_READ reads)
 *   process_kprobe  security_path_* / security_file_truncate → path (modifies)
 *   process_kprobe  security_file_open / fd_install → path (read)
 *   process_tracepoint raw_syscalls/sys_enter (syscall64 arg) → syscall by number and ABI
 * Tetragon has no function latency, so kfunc latency never comes from here.
 */

const ProcessSchema = z.looseObject({
  pid: z.number().int().optional(),
  binary: z.string().optional(),
  cwd: z.string().optional(),
});
const ArgSchema = z.record(z.string(), z.unknown());
const KprobeSchema = z.looseObject({
  process: ProcessSchema.optional(),
  parent: ProcessSchema.optional(),
  function_name: z.string(),
  args: z.array(ArgSchema).optional(),
});
const TracepointSchema = z.looseObject({
  process: ProcessSchema.optional(),
  parent: ProcessSchema.optional(),
  subsys: z.string().optional(),
  event: z.string().optional(),
  args: z.array(ArgSchema).optional(),
});
const ExecSchema = z.looseObject({ process: ProcessSchema, parent: ProcessSchema.optional() });
const ExitSchema = z.looseObject({ process: ProcessSchema });

export class TetragonEventError extends Error {
  override name = 'TetragonEventError';
}

type ProcessShape = z.infer<typeof ProcessSchema>;
type KprobeShape = z.infer<typeof KprobeSchema>;
type TracepointShape = z.infer<typeof TracepointSchema>;

/*
 * The schemas above define what is accepted. Millions of events go through here per run, so each one is
 * first checked by hand against the same shape (a fraction of the cost of a zod parse); only an event that
 * fails the quick check goes through zod, which either accepts it after all or says precisely what is wrong.
 */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isProcess(value: unknown): value is ProcessShape {
  if (!isRecord(value)) return false;
  const { pid, binary, cwd } = value;
  return (pid === undefined || Number.isInteger(pid)) && (binary === undefined || typeof binary === 'string') && (cwd === undefined || typeof cwd === 'string');
}

function isArgs(value: unknown): value is Record<string, unknown>[] | undefined {
  return value === undefined || (Array.isArray(value) && value.every(isRecord));
}

function shaped<T>(raw: unknown, quick: (raw: unknown) => boolean, schema: z.ZodType<T>, what: string): T {
  if (quick(raw)) return raw as T;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TetragonEventError(`bad ${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}

const quickExec = (raw: unknown) => isRecord(raw) && isProcess(raw.process) && (raw.parent === undefined || isProcess(raw.parent));
const quickExit = (raw: unknown) => isRecord(raw) && isProcess(raw.process);
const quickKprobe = (raw: unknown) =>
  isRecord(raw) &&
  typeof raw.function_name === 'string' &&
  (raw.process === undefined || isProcess(raw.process)) &&
  (raw.parent === undefined || isProcess(raw.parent)) &&
  isArgs(raw.args);
const quickTracepoint = (raw: unknown) =>
  isRecord(raw) &&
  (raw.subsys === undefined || typeof raw.subsys === 'string') &&
  (raw.event === undefined || typeof raw.event === 'string') &&
  (raw.process === undefined || isProcess(raw.process)) &&
  (raw.parent === undefined || isProcess(raw.parent)) &&
  isArgs(raw.args);

export interface TetragonDecoderOptions {
  /**
   * Keep only the process tree rooted at this pid (the capture's launcher): a process is in the tree when
   * it is the root or its parent is. Without it every event counts (a log of a dedicated VM).
   */
  rootPid?: number;
}

const SYSCALL_FUNCTION = /^(?:__x64_|__arm64_|__ia32_|__se_)?sys_(\w+)$/;
const MAY_WRITE = 2;

export class TetragonDecoder {
  private readonly live = new Set<number>();
  /** Earliest and latest event `time` seen (ms since the epoch), for the duration of a replayed log. */
  firstTimeMs: number | undefined;
  lastTimeMs: number | undefined;

  constructor(private readonly options: TetragonDecoderOptions = {}) {}

  /** Decodes one parsed event object. Unknown event kinds decode to nothing. */
  decode(event: unknown): CaptureEvent[] {
    if (typeof event !== 'object' || event === null) throw new TetragonEventError('a Tetragon event must be a JSON object');
    const record = event as Record<string, unknown>;
    if (typeof record.time === 'string') this.noteTime(record.time);
    if (record.process_exec !== undefined) return this.exec(record.process_exec);
    if (record.process_exit !== undefined) return this.exit(record.process_exit);
    if (record.process_kprobe !== undefined) return this.kprobe(record.process_kprobe);
    if (record.process_tracepoint !== undefined) return this.tracepoint(record.process_tracepoint);
    return [];
  }

  /** Parses and decodes one line of JSON; blank lines decode to nothing. */
  decodeLine(line: string): CaptureEvent[] {
    if (line.trim() === '') return [];
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new TetragonEventError(`not JSON: ${line.slice(0, 120)}`);
    }
    return this.decode(json);
  }

  private lastSecond = '';
  private lastSecondMs = NaN;

  private noteTime(time: string): void {
    // Events come in bursts within one second: parse "YYYY-MM-DDTHH:MM:SS" once per second, add the fraction.
    const second = time.slice(0, 19);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.lastSecondMs = Date.parse(second + 'Z');
    }
    const fraction = time[19] === '.' ? Number(`0.${time.slice(20, 23).replace(/\D.*$/, '')}`) * 1000 : 0;
    const ms = this.lastSecondMs + (Number.isNaN(fraction) ? 0 : fraction);
    if (Number.isNaN(ms)) return;
    if (this.firstTimeMs === undefined || ms < this.firstTimeMs) this.firstTimeMs = ms;
    if (this.lastTimeMs === undefined || ms > this.lastTimeMs) this.lastTimeMs = ms;
  }

  private inTree(process: { pid?: number | undefined } | undefined, parent: { pid?: number | undefined } | undefined): boolean {
    if (this.options.rootPid === undefined) return true;
    const pid = process?.pid;
    if (pid === undefined) return false;
    if (this.live.has(pid)) return true;
    if (pid === this.options.rootPid || (parent?.pid !== undefined && this.live.has(parent.pid))) {
      this.live.add(pid);
      return true;
    }
    return false;
  }

  private exec(raw: unknown): CaptureEvent[] {
    const { process, parent } = shaped(raw, quickExec, ExecSchema, 'process_exec');
    if (!this.inTree(process, parent) || process.pid === undefined || !process.binary) return [];
    const event: CaptureEvent = { kind: 'exec', source: 'tetragon', tid: process.pid, ppid: parent?.pid ?? -1, binary: process.binary };
    if (parent?.binary) event.parentBinary = parent.binary;
    if (process.cwd) event.cwd = process.cwd;
    return [event];
  }

  private exit(raw: unknown): CaptureEvent[] {
    const { process } = shaped(raw, quickExit, ExitSchema, 'process_exit');
    const pid = process.pid;
    if (pid === undefined || !this.inTree(process, undefined)) return [];
    this.live.delete(pid);
    return [{ kind: 'exit', source: 'tetragon', tid: pid }];
  }

  private kprobe(raw: unknown): CaptureEvent[] {
    const { process, parent, function_name: fn, args = [] }: KprobeShape = shaped(raw, quickKprobe, KprobeSchema, 'process_kprobe');
    if (!this.inTree(process, parent)) return [];
    const tid = process?.pid ?? -1;
    const syscall = SYSCALL_FUNCTION.exec(fn);
    if (syscall) {
      const name = syscall[1] as string;
      const out: CaptureEvent[] = [{ kind: 'syscall', source: 'tetragon', name, count: 1 }];
      if (name === 'ioctl') {
        const cmd = argNumber(args[1]);
        if (cmd !== undefined) out.push({ kind: 'ioctl', source: 'tetragon', cmd: cmd >>> 0, count: 1 });
      }
      return out;
    }
    if (fn === 'tcp_connect' || fn === 'tcp_v4_connect' || fn === 'tcp_v6_connect') {
      const sock = args[0]?.sock_arg as Record<string, unknown> | undefined;
      if (!sock || typeof sock.daddr !== 'string') return [];
      const family = sock.family === 'AF_INET6' ? 'inet6' : 'inet';
      return [{ kind: 'connect', source: 'tetragon', family, address: sock.daddr, port: Number(sock.dport ?? 0), count: 1 }];
    }
    if (fn === 'security_file_permission') {
      const path = argPath(args[0]);
      const mask = argNumber(args[1]);
      if (path === undefined) return [];
      return [pathEvent(tid, path, mask !== undefined && (mask & MAY_WRITE) !== 0)];
    }
    if (fn.startsWith('security_path_') || fn === 'security_file_truncate' || fn === 'security_inode_unlink') {
      return args.flatMap((arg) => {
        const path = argPath(arg);
        return path === undefined ? [] : [pathEvent(tid, path, true)];
      });
    }
    if (fn === 'security_file_open' || fn === 'fd_install') {
      const path = args.map(argPath).find((p) => p !== undefined);
      return path === undefined ? [] : [pathEvent(tid, path, false)];
    }
    return [];
  }

  private tracepoint(raw: unknown): CaptureEvent[] {
    const { process, parent, subsys, event, args = [] }: TracepointShape = shaped(raw, quickTracepoint, TracepointSchema, 'process_tracepoint');
    if (subsys !== 'raw_syscalls' || event !== 'sys_enter' || !this.inTree(process, parent)) return [];
    for (const arg of args) {
      const id = arg.syscall_id as { id?: unknown; abi?: unknown } | undefined;
      if (id && typeof id.id === 'number') {
        const name = id.abi === 'i386' ? `i386:${id.id}` : syscallName('x86_64', id.id);
        return [{ kind: 'syscall', source: 'tetragon', name, count: 1 }];
      }
    }
    // Before Tetragon 1.3 the syscall64 type printed a bare size_arg.
    const legacy = argNumber(args[0]);
    return legacy === undefined ? [] : [{ kind: 'syscall', source: 'tetragon', name: syscallName('x86_64', legacy), count: 1 }];
  }
}

/**
 * file_arg/path_arg paths are resolved by the kernel from the root (d_path), so they are absolute even
 * when older Tetragon releases print them without the leading slash (`etc/passwd`); never cwd-relative.
 */
function pathEvent(tid: number, path: string, modifies: boolean): CaptureEvent {
  return { kind: 'path', source: 'tetragon', tid, path: path.startsWith('/') ? path : '/' + path, modifies };
}

/** int_arg/uint_arg are JSON numbers; size_arg/long_arg (64-bit) are strings. */
function argNumber(arg: Record<string, unknown> | undefined): number | undefined {
  if (!arg) return undefined;
  for (const key of ['int_arg', 'uint_arg', 'size_arg', 'long_arg']) {
    const value = arg[key];
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

function argPath(arg: Record<string, unknown> | undefined): string | undefined {
  if (!arg) return undefined;
  for (const key of ['file_arg', 'path_arg']) {
    const value = arg[key] as { path?: unknown } | undefined;
    if (value && typeof value.path === 'string') return value.path;
  }
  return undefined;
}
