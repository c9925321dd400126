import { spawn } from 'node:child_process';

/**
 * Where a capture runs: this host, or a VM guest over the run's SSH connection. The capture needs one
 * thing from it: run a shell command line as root and stream its stdout.
 */
export interface CaptureShell {
  /** Human name for messages ("this host", "guest 127.0.0.1:2222"). */
  readonly name: string;
  run(commandLine: string, onStdout: (chunk: string) => void, signal?: AbortSignal): Promise<ShellExit>;
}

export interface ShellExit {
  exitCode: number | null;
  /** The tail of stderr (bounded). */
  stderr: string;
}

const STDERR_TAIL = 16_384;

/** Runs on this host with `sh -c`; the caller must be root for bpftrace. */
export function localCaptureShell(options: { cwd?: string } = {}): CaptureShell {
  return {
    name: 'this host',
    run(commandLine, onStdout, signal) {
      return new Promise((resolve) => {
        const child = spawn('sh', ['-c', commandLine], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => onStdout(chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));
        child.on('error', (err) => {
          stderr += `\n${err.message}`;
        });
        child.on('close', (code) => resolve({ exitCode: code, stderr }));
      });
    },
  };
}

/** The part of activities/vm's SshExecutor the capture uses. */
export interface SshExec {
  exec(
    command: string,
    options: { onStdout?: (chunk: string) => void; signal?: AbortSignal; maxCapture?: number },
  ): Promise<{ exitCode: number | null; stderr: string }>;
}

/**
 * Runs in a guest over an existing SSH connection (activities/vm SshExecutor). The golden's login user
 * is unprivileged with passwordless sudo, so the command goes through `sudo -n`. Output is streamed;
 * only a small tail is kept in memory by the executor.
 */
export function sshCaptureShell(executor: SshExec, options: { name: string; sudo?: boolean }): CaptureShell {
  return {
    name: options.name,
    async run(commandLine, onStdout, signal) {
      // The whole line (it may start with `cd … &&`) runs in one root shell.
      const command = options.sudo === false ? commandLine : `sudo -n sh -c '${commandLine.replace(/'/g, `'\\''`)}'`;
      const result = await executor.exec(command, { onStdout, ...(signal ? { signal } : {}), maxCapture: STDERR_TAIL });
      return { exitCode: result.exitCode, stderr: result.stderr.slice(-STDERR_TAIL) };
    },
  };
}
