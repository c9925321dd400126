import { copyFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { appendTail, DEFAULT_DRAIN_MS, DEFAULT_MAX_CAPTURE, type ExecOptions, type ExecResult, type Executor } from './executor.js';
import { killGroup, killProcessTree } from './process-tree.js';

export interface LocalExecutorOptions {
  /** On a timeout or abort: SIGTERM first and SIGKILL after this long; 0 (default): SIGKILL at once. */
  killGraceMs?: number;
}

/**
 * Runs commands on this host with execa. Each command leads a process group of its own (detached);
 * a timeout or abort kills that group and every descendant; when the command exits, what is left of
 * its group is killed (a helper it started does not outlive it unless it left the group on purpose);
 * and the result comes at the command's exit, not at the end of its output: a process holding the
 * pipes (a daemon, a setsid'd child) gets `drainMs`, then the output so far is the output.
 */
export class LocalExecutor implements Executor {
  readonly name = 'this host';

  constructor(private readonly options: LocalExecutorOptions = {}) {}

  async exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = typeof command === 'string' ? ['sh', '-c', command] : command;
    if (!file) throw new Error('exec: empty argv');
    const started = performance.now();
    const maxCapture = options.maxCapture ?? DEFAULT_MAX_CAPTURE;
    const child = execa(file, args, {
      detached: true,
      reject: false,
      buffer: false,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      env: options.env ?? process.env,
      extendEnv: false,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    let exited = false;
    const finished = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const stop = (): void => void killProcessTree(child.pid, { graceMs: this.options.killGraceMs ?? 0, exited: finished });
    const timer = options.timeoutMs
      ? setTimeout(() => {
          if (exited) return;
          timedOut = true;
          stop();
        }, options.timeoutMs)
      : undefined;
    const onAbort = (): void => {
      if (exited) return;
      cancelled = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      stdout = appendTail(stdout, text, maxCapture);
      options.onStdout?.(text);
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = appendTail(stderr, text, maxCapture);
      options.onStderr?.(text);
    });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    let drainTimer: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      exited = true;
      // Whatever the command left in its group (a tracer whose script was killed) goes with it.
      killGroup(child.pid);
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, options.drainMs ?? DEFAULT_DRAIN_MS);
    });
    const result = await child;
    if (timer) clearTimeout(timer);
    if (drainTimer) clearTimeout(drainTimer);
    options.signal?.removeEventListener('abort', onAbort);
    const neverRan = result.exitCode === undefined && result.signal === undefined;
    return {
      exitCode: result.exitCode ?? null,
      exitSignal: result.signal,
      stdout,
      stderr,
      timedOut,
      cancelled,
      durationMs: Math.round(performance.now() - started),
      ...(neverRan ? { spawnError: result.originalMessage || result.shortMessage, missing: result.code === 'ENOENT' } : {}),
    };
  }

  async upload(content: string | Buffer, path: string, mode = 0o644): Promise<void> {
    await writeFile(path, content, { mode });
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await copyFile(remotePath, localPath);
  }
}

/** This host, killing at once on a timeout. */
export const localExecutor = new LocalExecutor();
