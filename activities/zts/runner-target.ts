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
  /** Starts the runner on the target, in a process group of its own, the way that target runs it. */
  spawnRunner(invocation: RunnerInvocation, options: SpawnRunnerOptions): RunningRunner;
}

/**
 * One run of test-runner.py, as the chunk code plans it. Each target turns it into its own command:
 * this host runs test-runner.py directly (testRunnerArgv), a VM clone through zfs-tests.sh
 * (activities/vm/guest-runner-command.ts).
 */
export interface RunnerInvocation {
  python: string;
  /** test-runner.py on the target. */
  runnerPath: string;
  /** The uploaded runfile (its `outputdir` is already `outputBase`). */
  runfile: string;
  /** The suite's tests dir (`-i`). */
  testDir: string;
  /** Where the runner makes its timestamped results dir (`-o`). */
  outputBase: string;
  /** `-T`: only these tags (empty: all). */
  tags: readonly string[];
}

/** test-runner.py's own command line for an invocation. No -q: quiet mode hides PASS lines, and every line is a checkpoint. */
export function testRunnerArgv(invocation: RunnerInvocation): string[] {
  const argv = [invocation.python, invocation.runnerPath, '-c', invocation.runfile, '-i', invocation.testDir, '-o', invocation.outputBase];
  if (invocation.tags.length > 0) argv.push('-T', invocation.tags.join(','));
  return argv;
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
