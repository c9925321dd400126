import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalExecutor } from '../../lib/exec/local.js';
import {
  testRunnerArgv,
  type RunnerInvocation,
  type RunnerProcessExit,
  type RunnerTarget,
  type RunningRunner,
  type SpawnRunnerOptions,
} from './runner-target.js';

/**
 * Runs test-runner.py on this host, for the native target, through the local Executor. The runner
 * leads a new process group, but that is not enough to stop it: every test runs under
 * `sudo -E -u <user>`, and with Debian's `Defaults use_pty` sudo puts the test in a session of its own
 * on a pty, out of the group's reach; and sudo cannot relay a SIGKILL. The executor's kill walks the
 * whole process tree (via /proc) and signals every descendant: TERM first (sudo relays it, scripts may
 * clean up), KILL after the grace.
 */
export class LocalRunnerTarget implements RunnerTarget {
  private readonly executor: LocalExecutor;

  constructor(options: { killGraceMs?: number } = {}) {
    this.executor = new LocalExecutor({ killGraceMs: options.killGraceMs ?? 5_000 });
  }

  async writeFile(path: string, content: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch {
      return [];
    }
  }

  spawnRunner(invocation: RunnerInvocation, options: SpawnRunnerOptions): RunningRunner {
    return this.spawnArgv(testRunnerArgv(invocation), options);
  }

  /** Starts any argv the way the runner is started (ParentDeathTarget wraps the runner's). */
  spawnArgv(argv: readonly string[], options: SpawnRunnerOptions): RunningRunner {
    if (argv.length === 0) throw new Error('spawnArgv: empty argv');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stopper = new AbortController();
    // The whole output goes to the streams; the executor keeps only a small tail of its own.
    const exit: Promise<RunnerProcessExit> = this.executor
      .exec(argv, {
        env: { ...process.env, ...options.env },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        signal: stopper.signal,
        maxCapture: 4096,
        onStdout: (chunk) => stdout.write(chunk),
        onStderr: (chunk) => stderr.write(chunk),
      })
      .then(
        (result) =>
          result.spawnError ? { code: null, signal: null, spawnError: result.spawnError } : { code: result.exitCode, signal: result.exitSignal ?? null },
        (err: unknown) => ({ code: null, signal: null, spawnError: (err as Error).message }),
      )
      .then(async (result) => {
        stdout.end();
        stderr.end();
        // Like a child's 'close': the exit comes after its output has been read (bounded, for a reader that never reads).
        await Promise.race([Promise.all([once(stdout, 'end'), once(stderr, 'end')]), sleep(1_000)]);
        return result;
      });
    let killing: Promise<void> | undefined;
    const kill = (): Promise<void> => {
      killing ??= (async () => {
        stopper.abort();
        await exit;
      })();
      return killing;
    };
    return { stdout, stderr, exit, kill };
  }
}
