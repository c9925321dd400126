import { localExecutor } from '../../lib/exec/local.js';

export interface ExecOutcome {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT: not installed). */
  missing: boolean;
}

/** Runs a program with a timeout (default 15 s, then the group is killed) and never throws: the caller turns the outcome into a fact. */
export async function run(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecOutcome> {
  const result = await localExecutor.exec([file, ...args], {
    timeoutMs: options.timeoutMs ?? 15_000,
    maxCapture: 4 * 1024 * 1024,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const ok = result.exitCode === 0 && !result.timedOut;
  return { ok, code: result.timedOut ? null : result.exitCode, stdout: result.stdout, stderr: result.stderr, missing: result.missing === true };
}
