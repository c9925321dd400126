/**
 * Where a command runs: this host (LocalExecutor, on execa) or a machine over SSH (SshExecutor). Both
 * run a command in a process group of its own, kill that whole group on a timeout or an abort, stream
 * its output, and move files; the callers (capture, ZTS runner, recipes, golden builds) need nothing
 * else from a host, so the same code drives all of them.
 */
export interface Executor {
  /** For messages: "this host", "guest 127.0.0.1:2222". */
  readonly name: string;
  /**
   * Runs a shell command line (a string) or a program with its arguments (an argv, quoted for the shell
   * where one is in between). Never rejects for the command's own failure: the exit is in the result.
   */
  exec(command: string | readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Writes `content` to `path` on the target (mode applied to a new file). */
  upload(content: string | Buffer, path: string, mode?: number): Promise<void>;
  /** Copies `remotePath` on the target to `localPath` on this host. */
  download(remotePath: string, localPath: string): Promise<void>;
}

export interface ExecOptions {
  /** Kill the command's whole process group after this long (timedOut in the result). */
  timeoutMs?: number;
  /** Aborting kills the command's whole process group (cancelled in the result). */
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Keep at most this many characters of each stream (the tail). */
  maxCapture?: number;
  /** Written to the command's stdin, then closed. Without it stdin is empty. */
  input?: string | Buffer;
  /** The whole environment of a local command (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * How long to wait, once the command has exited, for its stdout/stderr to close. A process that left
   * the command's group (setsid, a daemon) may hold them open forever; after this the output so far is
   * the output.
   */
  drainMs?: number;
}

export interface ExecResult {
  /** null when the command died of a signal or never started. */
  exitCode: number | null;
  /** The signal it died of ("SIGKILL", or "KILL" as sshd names it). */
  exitSignal: string | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** Set when the command could not be started at all; `missing` when the program does not exist. */
  spawnError?: string;
  missing?: boolean;
}

/** Default: 2 MB of each stream. */
export const DEFAULT_MAX_CAPTURE = 2_000_000;
/** Default: 2 s for output still in flight after the exit. */
export const DEFAULT_DRAIN_MS = 2_000;

/** Appends to a bounded tail. */
export function appendTail(kept: string, text: string, max: number): string {
  const joined = kept + text;
  return joined.length > max ? joined.slice(-max) : joined;
}

/** "exit 3", "killed by SIGKILL", "timed out after 5000 ms", … for messages. */
export function describeExit(result: ExecResult, timeoutMs?: number): string {
  if (result.spawnError) return `could not start: ${result.spawnError}`;
  if (result.timedOut) return `timed out after ${timeoutMs ?? '?'} ms`;
  if (result.cancelled) return 'aborted';
  if (result.exitCode === null) return `killed by ${result.exitSignal ?? 'a signal'}`;
  return `exit ${result.exitCode}`;
}
