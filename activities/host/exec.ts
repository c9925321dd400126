import { execFile } from 'node:child_process';

export interface ExecOutcome {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT: not installed). */
  missing: boolean;
}

/** Runs a program with a timeout and never throws: the caller turns the outcome into a fact. */
export function run(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecOutcome> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 15_000, maxBuffer: 4 * 1024 * 1024, env: options.env ?? process.env, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const errno = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
        const missing = errno?.code === 'ENOENT';
        const code = error ? (typeof errno?.code === 'number' ? errno.code : null) : 0;
        resolvePromise({ ok: !error, code, stdout: String(stdout), stderr: String(stderr), missing });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
