import { shellQuote } from '../../core/text/shell-quote.js';
import { describeExit, type Executor } from '../../lib/exec/executor.js';
import { localExecutor } from '../../lib/exec/local.js';

/**
 * Where a capture runs: this host, or a VM guest over the run's SSH connection. The capture needs one
 * thing from it: run a shell command line as root and stream its stdout. An adapter over an Executor,
 * so the script runs in a process group of its own that dies as a whole (tracer included) on a
 * timeout, an abort or the script's own death, and the result comes at the script's exit.
 */
export interface CaptureShell {
  /** Human name for messages ("this host", "guest 127.0.0.1:2222"). */
  readonly name: string;
  run(commandLine: string, onStdout: (chunk: string) => void, signal?: AbortSignal, timeoutMs?: number): Promise<ShellExit>;
}

export interface ShellExit {
  exitCode: number | null;
  /** The tail of stderr (bounded). */
  stderr: string;
  /** How it ended when it did not exit by itself ("killed by SIGKILL", "timed out after 5000 ms"). */
  ended?: string;
}

const STDERR_TAIL = 16_384;

/**
 * Runs through `executor`; with `sudo`, the whole line (it may start with `cd … &&`) runs in one root
 * shell through `sudo -n` (a golden's login user is unprivileged with passwordless sudo).
 */
export function executorCaptureShell(executor: Executor, options: { name?: string; sudo?: boolean } = {}): CaptureShell {
  return {
    name: options.name ?? executor.name,
    async run(commandLine, onStdout, signal, timeoutMs) {
      const command = options.sudo ? `sudo -n sh -c ${shellQuote(commandLine)}` : commandLine;
      const result = await executor.exec(command, { onStdout, maxCapture: STDERR_TAIL, ...(signal ? { signal } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
      const stderr = result.stderr.slice(-STDERR_TAIL) + (result.spawnError ? `\n${result.spawnError}` : '');
      const exit: ShellExit = { exitCode: result.exitCode, stderr };
      if (result.exitCode === null || result.timedOut || result.cancelled) exit.ended = describeExit(result, timeoutMs);
      return exit;
    },
  };
}

/** Runs on this host with `sh -c`; the caller must be root for bpftrace. */
export function localCaptureShell(): CaptureShell {
  return executorCaptureShell(localExecutor);
}

/** Runs in a guest over an existing SSH connection (lib/exec SshExecutor), as root through sudo unless `sudo: false`. */
export function sshCaptureShell(executor: Executor, options: { name: string; sudo?: boolean }): CaptureShell {
  return executorCaptureShell(executor, { name: options.name, sudo: options.sudo !== false });
}
