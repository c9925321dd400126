import type { Readable } from 'node:stream';

/**
 * Where test-runner.py runs: this host (LocalRunnerTarget) or, later, a guest over SSH. The chunk
 * runner needs only these three things from it, so the same code drives both.
 */
export interface RunnerTarget {
  /** Writes a text file on the target, creating its parent directories. */
  writeFile(path: string, content: string): Promise<void>;
  /** Names in a directory on the target (empty when it does not exist). */
  listDir(path: string): Promise<string[]>;
  /** Starts `argv` on the target in a process group of its own. */
  spawnRunner(argv: readonly string[], options: SpawnRunnerOptions): RunningRunner;
}

export interface SpawnRunnerOptions {
  /** Variables added to the target's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunnerProcessExit {
  /** null when it died of a signal (or never started). */
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

export interface RunningRunner {
  stdout: Readable;
  stderr: Readable;
  /** Resolves once the process has exited and its output streams have ended. Never rejects. */
  exit: Promise<RunnerProcessExit>;
  /** Stops the runner and everything it started (tests run via sudo included); resolves when none is left. */
  kill(): Promise<void>;
}
