import type { CaptureSource } from './schema.js';

/** One histogram bucket: values in [min, max] (inclusive). Open-ended buckets leave min or max undefined. */
export interface HistBucket {
  min?: number;
  max?: number;
  count: number;
}

/**
 * What every backend's output is reduced to before summarising. Process ids are kernel task ids
 * (thread ids); the summariser keeps per-task state (binary, cwd) and frees it on `exit`, so its
 * memory follows the number of live tasks, never the number of events.
 */
export type CaptureEvent =
  /**
   * A task of the workload exec'd `binary`; `ppid` is the parent process (tgid), -1 when unknown.
   * Tetragon events also name the parent's binary and the process's cwd.
   */
  | { kind: 'exec'; source: CaptureSource; tid: number; ppid: number; binary: string; parentBinary?: string; cwd?: string }
  /** A new task in the workload's tree (process or thread), cloned from `parentTid`. */
  | { kind: 'fork'; source: CaptureSource; tid: number; parentTid: number }
  | { kind: 'exit'; source: CaptureSource; tid: number }
  /** A chdir attempt; it takes effect (relative paths resolve against it) when `chdir-result` says ok. */
  | { kind: 'chdir'; source: CaptureSource; tid: number; path: string }
  /** `unknown`: the task changed directory by fd (fchdir), so its cwd can no longer be named. */
  | { kind: 'chdir-result'; source: CaptureSource; tid: number; ok: boolean; unknown?: boolean }
  /**
   * A path the task opened or changed. `dirfd` is the *at() directory fd: -100 (AT_FDCWD) or absent
   * means relative to the cwd; any other fd cannot be resolved after the fact.
   */
  | {
      kind: 'path';
      source: CaptureSource;
      tid: number;
      path: string;
      modifies: boolean;
      dirfd?: number;
      truncated?: boolean;
      /** The task's cwd when the source reports it (Tetragon does). */
      cwd?: string;
    }
  | { kind: 'syscall'; source: CaptureSource; name: string; count: number }
  | { kind: 'ioctl'; source: CaptureSource; cmd: number; count: number }
  | {
      kind: 'connect';
      source: CaptureSource;
      family: 'inet' | 'inet6' | 'unix';
      address: string;
      port: number;
      count: number;
    }
  /** Time spent in a kernel function, nanoseconds, as a histogram. */
  | { kind: 'kfunc-latency'; source: CaptureSource; func: string; buckets: HistBucket[] }
  | { kind: 'lost'; source: CaptureSource; count: number };

export type CaptureEventKind = CaptureEvent['kind'];

/** AT_FDCWD on Linux. */
export const AT_FDCWD = -100;
