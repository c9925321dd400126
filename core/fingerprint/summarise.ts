import { AT_FDCWD, type CaptureEvent, type HistBucket } from './events.js';
import { mergeBuckets, quantileFromBuckets } from './histogram.js';
import { ioctlName, type ZfsIoctlVersion } from './ioctl-names.js';
import { collapsePatterns, DEFAULT_COLLAPSE, pathPattern, resolvePath, type CollapseOptions } from './path-glob.js';
import {
  FINGERPRINT_SCHEMA_VERSION,
  FingerprintSchema,
  ioctlHex,
  SECTION_NAMES,
  type CaptureInfo,
  type CaptureSource,
  type Fingerprint,
  type SectionCoverage,
  type SectionName,
} from './schema.js';

/**
 * Reduces a stream of capture events to a fingerprint. Memory follows the number of distinct keys
 * (syscall names, binaries, ioctl codes, destinations, path patterns) and live tasks, not the number of
 * events: counts are summed as they arrive, per-task state is dropped at exit, and path pattern sets are
 * collapsed whenever they grow past a bound.
 */
export interface SummariserOptions {
  zfsIoctlTable: ZfsIoctlVersion;
  /** Which source fills each section; events of other sources for that section are ignored (no double counting). */
  sources: Partial<Record<SectionName, CaptureSource>>;
  /** The workload's working directory at launch, for relative paths of tasks not seen forking. */
  initialCwd?: string;
  collapse?: CollapseOptions;
}

export interface FinishInput {
  workload: string;
  capturedAt: string;
  durationSeconds: number;
  /** Final per-section coverage; a section not captured is emptied whatever events arrived. */
  coverage: Record<SectionName, SectionCoverage>;
  backends: CaptureSource[];
  stoppedBy: CaptureInfo['stopped_by'];
  exitCode: number | null;
  kernel?: string;
  arch?: string;
}

interface TaskState {
  binary?: string;
  cwd?: string;
  pendingChdir?: string;
}

/** Stands for a cwd set by fchdir: relative paths under it are reported as `(cwd)/…`, never guessed. */
const UNKNOWN_CWD = '(cwd)';

/** Above this many distinct patterns in one set, collapse eagerly to bound memory. */
const EAGER_COLLAPSE_AT = 20_000;
const EAGER_COLLAPSE_TO: CollapseOptions = { maxChildren: 16, maxPatterns: 2_000 };

export class FingerprintSummariser {
  private readonly syscalls = new Map<string, number>();
  private readonly binaries = new Map<string, { count: number; parents: Set<string> }>();
  private readonly ioctls = new Map<number, number>();
  private readonly kfuncs = new Map<string, HistBucket[]>();
  private readonly destinations = new Map<string, { family: 'inet' | 'inet6' | 'unix'; address: string; port: number; count: number }>();
  private modified = new Set<string>();
  private read = new Set<string>();
  private readonly tasks = new Map<CaptureSource, Map<number, TaskState>>();
  private lostEvents = 0;
  private truncatedPaths = 0;
  private eventCount = 0;

  private initialCwd: string | undefined;

  constructor(private readonly options: SummariserOptions) {
    this.initialCwd = options.initialCwd;
  }

  /** Sets the workload's launch directory once it is known (the capture reports it before any event). */
  setInitialCwd(cwd: string): void {
    this.initialCwd = cwd;
  }

  /** Events seen so far (all kinds, all sources). */
  get events(): number {
    return this.eventCount;
  }

  add(event: CaptureEvent): void {
    this.eventCount++;
    const feeds = (section: SectionName) => this.options.sources[section] === event.source;
    switch (event.kind) {
      case 'syscall':
        if (feeds('syscalls')) this.syscalls.set(event.name, (this.syscalls.get(event.name) ?? 0) + event.count);
        return;
      case 'ioctl':
        if (feeds('ioctl_codes')) this.ioctls.set(event.cmd, (this.ioctls.get(event.cmd) ?? 0) + event.count);
        return;
      case 'kfunc-latency':
        if (feeds('kfunc_latency_p99_us')) this.kfuncs.set(event.func, mergeBuckets(this.kfuncs.get(event.func) ?? [], event.buckets));
        return;
      case 'connect': {
        if (!feeds('network_destinations')) return;
        const key = `${event.family}|${event.address}|${event.port}`;
        const existing = this.destinations.get(key);
        if (existing) existing.count += event.count;
        else this.destinations.set(key, { family: event.family, address: event.address, port: event.port, count: event.count });
        return;
      }
      case 'lost':
        this.lostEvents += event.count;
        return;
      case 'fork': {
        const tasks = this.tasksOf(event.source);
        const parent = tasks.get(event.parentTid) ?? this.rootState();
        tasks.set(event.tid, { ...parent, pendingChdir: undefined });
        return;
      }
      case 'exit':
        this.tasksOf(event.source).delete(event.tid);
        return;
      case 'chdir':
        this.taskState(event.source, event.tid).pendingChdir = event.path;
        return;
      case 'chdir-result': {
        const task = this.taskState(event.source, event.tid);
        if (event.unknown) task.cwd = UNKNOWN_CWD;
        else if (event.ok && task.pendingChdir !== undefined) task.cwd = resolvePath(task.pendingChdir, task.cwd);
        task.pendingChdir = undefined;
        return;
      }
      case 'exec':
        this.addExec(event);
        return;
      case 'path':
        this.addPath(event);
        return;
    }
  }

  private tasksOf(source: CaptureSource): Map<number, TaskState> {
    let tasks = this.tasks.get(source);
    if (!tasks) this.tasks.set(source, (tasks = new Map()));
    return tasks;
  }

  private rootState(): TaskState {
    return this.initialCwd === undefined ? {} : { cwd: this.initialCwd };
  }

  private taskState(source: CaptureSource, tid: number): TaskState {
    const tasks = this.tasksOf(source);
    let task = tasks.get(tid);
    if (!task) tasks.set(tid, (task = this.rootState()));
    return task;
  }

  private addExec(event: Extract<CaptureEvent, { kind: 'exec' }>): void {
    const task = this.taskState(event.source, event.tid);
    const binary = resolvePath(event.binary, task.cwd);
    if (this.options.sources.binaries_spawned === event.source) {
      // The parent is the process that forked this one (by pid when known), else what this task ran before the exec.
      const parentBinary = event.parentBinary ?? (event.ppid > 0 ? this.tasksOf(event.source).get(event.ppid)?.binary : undefined) ?? task.binary;
      let entry = this.binaries.get(binary);
      if (!entry) this.binaries.set(binary, (entry = { count: 0, parents: new Set() }));
      entry.count++;
      if (parentBinary !== undefined) entry.parents.add(parentBinary);
    }
    task.binary = binary;
    if (event.cwd !== undefined) task.cwd = event.cwd;
  }

  private addPath(event: Extract<CaptureEvent, { kind: 'path' }>): void {
    const section: SectionName = event.modifies ? 'filesystem_paths_modified' : 'filesystem_paths_read';
    if (this.options.sources[section] !== event.source) return;
    const cwd = event.cwd ?? this.taskState(event.source, event.tid).cwd;
    let absolute: string;
    if (event.path.startsWith('/')) absolute = resolvePath(event.path, undefined);
    else if (event.dirfd === undefined || event.dirfd === AT_FDCWD) absolute = resolvePath(event.path, cwd);
    // Relative to an open directory fd: the directory cannot be named after the fact.
    else absolute = `(dirfd)/${resolvePath(event.path, '/').slice(1)}`;
    if (event.truncated) this.truncatedPaths++;
    const pattern = pathPattern(absolute, event.truncated);
    const set = event.modifies ? this.modified : this.read;
    set.add(pattern);
    if (set.size > EAGER_COLLAPSE_AT) {
      const collapsed = new Set(collapsePatterns(set, EAGER_COLLAPSE_TO));
      if (event.modifies) this.modified = collapsed;
      else this.read = collapsed;
    }
  }

  finish(input: FinishInput): Fingerprint {
    const captured = (section: SectionName) => input.coverage[section].status === 'captured';
    const duration = input.durationSeconds;
    const rate = (count: number) => (duration > 0 ? round(count / duration, 4) : 0);
    const byCount = <T extends { count: number }>(a: [string, T], b: [string, T]) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1);

    const syscalls = captured('syscalls')
      ? Object.fromEntries(
          [...this.syscalls]
            .map(([name, count]): [string, { count: number }] => [name, { count }])
            .sort(byCount)
            .map(([name, { count }]) => [name, { count, rate_per_s: rate(count) }]),
        )
      : {};
    const binaries = captured('binaries_spawned')
      ? [...this.binaries].sort(byCount).map(([path, entry]) => ({ path, count: entry.count, parents: [...entry.parents].sort() }))
      : [];
    const ioctls = captured('ioctl_codes')
      ? Object.fromEntries(
          [...this.ioctls]
            .map(([cmd, count]): [string, { cmd: number; count: number }] => [ioctlHex(cmd), { cmd, count }])
            .sort(byCount)
            .map(([hex, { cmd, count }]) => [hex, { name: ioctlName(cmd, this.options.zfsIoctlTable), count, rate_per_s: rate(count) }]),
        )
      : {};
    const latency: Record<string, number> = {};
    const calls: Record<string, number> = {};
    if (captured('kfunc_latency_p99_us')) {
      for (const [func, buckets] of [...this.kfuncs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const p99 = quantileFromBuckets(buckets, 0.99);
        if (p99 === undefined) continue;
        latency[func] = round(p99 / 1000, 3);
        calls[func] = buckets.reduce((sum, b) => sum + b.count, 0);
      }
    }
    const destinations = captured('network_destinations')
      ? [...this.destinations.values()].sort((a, b) => b.count - a.count || `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`))
      : [];
    const collapse = this.options.collapse ?? DEFAULT_COLLAPSE;
    const modified = captured('filesystem_paths_modified') ? collapsePatterns(this.modified, collapse) : [];
    const modifiedSet = new Set(modified);
    const read = captured('filesystem_paths_read')
      ? collapsePatterns(
          [...this.read].filter((p) => !modifiedSet.has(p)),
          collapse,
        )
      : [];

    const fingerprint: Fingerprint = {
      schema_version: FINGERPRINT_SCHEMA_VERSION,
      workload: input.workload,
      captured_at: input.capturedAt,
      duration_s: round(duration, 3),
      capture: {
        backends: input.backends,
        sections: Object.fromEntries(SECTION_NAMES.map((s) => [s, input.coverage[s]])) as CaptureInfo['sections'],
        lost_events: this.lostEvents,
        truncated_paths: this.truncatedPaths,
        zfs_ioctl_table: `openzfs-${this.options.zfsIoctlTable}`,
        ...(input.kernel === undefined ? {} : { kernel: input.kernel }),
        ...(input.arch === undefined ? {} : { arch: input.arch }),
        stopped_by: input.stoppedBy,
        exit_code: input.exitCode,
      },
      syscalls,
      binaries_spawned: binaries,
      ioctl_codes: ioctls,
      kfunc_latency_p99_us: latency,
      kfunc_calls: calls,
      network_destinations: destinations,
      filesystem_paths_modified: modified,
      filesystem_paths_read: read,
    };
    // The summariser's own output must pass the schema any reader applies.
    return FingerprintSchema.parse(fingerprint);
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
