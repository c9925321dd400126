import { CommandFailed } from '../errors.js';
import { type ExecOptions, type Executor } from './executor.js';
import { localExecutor } from './local.js';

export interface RunOptions extends Pick<ExecOptions, 'env' | 'cwd' | 'timeoutMs' | 'signal' | 'input' | 'maxCapture'> {
  /** Each line of stdout/stderr, as it arrives (build logs, heartbeats). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Exit codes that are not failures. */
  okExitCodes?: readonly number[];
  /** Where to run it; default this host. */
  executor?: Executor;
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
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { onLine, okExitCodes, executor = localExecutor, ...exec } = options;
  const split = (stream: 'stdout' | 'stderr') => {
    let pending = '';
    return (text: string): void => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line, stream);
    };
  };
  const result = await executor.exec([command, ...args], {
    maxCapture: 1_000_000,
    ...exec,
    ...(onLine ? { onStdout: split('stdout'), onStderr: split('stderr') } : {}),
  });
  const display = [command, ...args].join(' ');
  if (result.spawnError) throw Object.assign(new Error(`${display}: ${result.spawnError}`), { code: result.missing ? 'ENOENT' : undefined });
  if (result.timedOut || result.cancelled) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : 'aborted';
    throw new CommandFailed(`${display} (${why})`, result.exitCode, result.stdout, result.stderr);
  }
  const code = result.exitCode;
  if (code === 0 || (code !== null && okExitCodes?.includes(code))) return { exitCode: code, stdout: result.stdout, stderr: result.stderr };
  throw new CommandFailed(display, code, result.stdout, result.stderr);
}
