import { spawn } from 'node:child_process';
import { CommandFailed } from '../../lib/errors.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command's whole process group after this long. */
  timeoutMs?: number;
  /** Aborting kills the command's process group. */
  signal?: AbortSignal;
  /** Each line of stdout/stderr, as it arrives (build logs, heartbeats). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Written to the command's stdin, then closed. */
  input?: string | Buffer;
  /** Exit codes that are not failures. */
  okExitCodes?: readonly number[];
  /** Keep at most this many characters of each stream (the tail). */
  maxCapture?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a host command in its own process group and waits for it. A timeout or abort kills the
 * group (children included: apt, dkms and make run under one chroot command). Throws CommandFailed
 * with the captured output on a non-zero exit.
 */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const maxCapture = options.maxCapture ?? 1_000_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killedFor: string | undefined;
    const killGroup = (why: string): void => {
      killedFor ??= why;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    const timer = options.timeoutMs ? setTimeout(() => killGroup(`timed out after ${options.timeoutMs} ms`), options.timeoutMs) : undefined;
    const onAbort = (): void => killGroup('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const lineSplitter = (stream: 'stdout' | 'stderr') => {
      let pending = '';
      return (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        if (stream === 'stdout') stdout = (stdout + text).slice(-maxCapture);
        else stderr = (stderr + text).slice(-maxCapture);
        if (!options.onLine) return;
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onLine(line, stream);
      };
    };
    child.stdout?.on('data', lineSplitter('stdout'));
    child.stderr?.on('data', lineSplitter('stderr'));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const display = [command, ...args].join(' ');
      if (killedFor) {
        reject(new CommandFailed(`${display} (${killedFor})`, code, stdout, stderr));
        return;
      }
      const exitCode = code ?? 128 + (signal ? 9 : 0);
      if (code === 0 || (code !== null && options.okExitCodes?.includes(code))) resolvePromise({ exitCode, stdout, stderr });
      else reject(new CommandFailed(display, code, stdout, stderr));
    });
  });
}
