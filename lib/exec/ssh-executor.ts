import { randomBytes } from 'node:crypto';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { shellCommandLine, shellQuote } from '../../core/text/shell-quote.js';
import { InfraError } from '../errors.js';
import { appendTail, DEFAULT_DRAIN_MS, DEFAULT_MAX_CAPTURE, type ExecOptions, type ExecResult, type Executor } from './executor.js';

/**
 * SSH into a guest with the golden's client key and its recorded host key pinned: a server that
 * presents any other key is refused (host-key checking is never turned off).
 */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
  /** "ssh-ed25519 AAAA…" as recorded in the golden's manifest. */
  hostPublicKey: string;
  readyTimeoutMs?: number;
}

export class HostKeyMismatch extends InfraError {
  override name = 'HostKeyMismatch';
}

const PGID_MARK = 'zfslab-pgid:';

/**
 * Runs `command` in its own session (setsid), printing the session's pgid first on stderr, so a
 * timeout can kill exactly that process group from a second channel.
 */
export function wrapInProcessGroup(command: string): string {
  return `exec setsid -w sh -c ${shellQuote(`printf '${PGID_MARK}%s\\n' $$ >&2; exec sh -c "$0"`)} ${shellQuote(command)}`;
}

export function pinnedHostKeyVerifier(hostPublicKey: string): (key: Buffer) => boolean {
  const [type, base64] = hostPublicKey.trim().split(/\s+/);
  if (!type || !base64) throw new Error(`not an OpenSSH public key: ${hostPublicKey}`);
  const expected = Buffer.from(base64, 'base64');
  return (key: Buffer) => key.equals(expected);
}

export class SshExecutor implements Executor {
  private constructor(
    private readonly client: Client,
    readonly target: Omit<SshTarget, 'privateKey'>,
  ) {}

  static connect(target: SshTarget): Promise<SshExecutor> {
    const client = new Client();
    const verify = pinnedHostKeyVerifier(target.hostPublicKey);
    let keyRefused = false;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      readyTimeout: target.readyTimeoutMs ?? 20_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 8,
      algorithms: { serverHostKey: [target.hostPublicKey.split(/\s+/)[0] as 'ssh-ed25519'] },
      hostVerifier: (key: Buffer) => {
        const ok = verify(key);
        if (!ok) keyRefused = true;
        return ok;
      },
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      client.once('ready', () => {
        settled = true;
        const { privateKey: _key, ...rest } = target;
        resolve(new SshExecutor(client, rest));
      });
      // ssh2 may emit more than one error for one failed connection (and errors after ready, when
      // the guest goes away): keep a listener for the client's whole life so none is unhandled.
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        client.end();
        if (keyRefused)
          reject(new HostKeyMismatch(`host key of ${target.host}:${target.port} does not match the pinned key ${target.hostPublicKey.slice(0, 40)}…`));
        else reject(err);
      });
      // A peer that sends its banner and closes before the handshake ends (a guest sshd still
      // starting) ends the client with 'close' and no 'error'; without this the promise would
      // never settle and, with nothing else pending, Node would exit mid-await.
      client.once('close', () => {
        if (settled) return;
        settled = true;
        reject(new Error(`ssh ${target.username}@${target.host}:${target.port}: connection closed before the SSH handshake`));
      });
      client.connect(config);
    });
  }

  /** Runs a command (through the login user's shell); streams output; kills the remote group on timeout/abort. */
  get name(): string {
    return `${this.target.username}@${this.target.host}:${this.target.port}`;
  }

  /**
   * Runs a command line (an argv is quoted into one) through the login user's shell; streams output;
   * kills the remote group on timeout/abort, and when the command has exited but something it left
   * behind still holds the channel open after `drainMs`. `env` does not apply (the guest has its own).
   */
  async exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const maxCapture = options.maxCapture ?? DEFAULT_MAX_CAPTURE;
    const line = typeof command === 'string' ? command : shellCommandLine(command);
    const full = options.cwd ? `cd ${shellQuote(options.cwd)} && ${line}` : line;
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    let exited = false;
    let onExit: (() => void) | undefined;
    // The exit status may arrive in the same packet batch as the channel's opening: listen before
    // anything else runs, or it is lost.
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      this.client.exec(wrapInProcessGroup(full), (err, ch) => {
        if (err) return reject(err);
        ch.on('exit', (code: number | null, signalName?: string) => {
          exitCode = code;
          exitSignal = signalName;
          exited = true;
          onExit?.();
        });
        resolve(ch);
      }),
    );
    let stdout = '';
    let stderr = '';
    let pgid: number | undefined;
    let stderrHead = '';
    let timedOut = false;
    let cancelled = false;
    const killRemote = async (): Promise<void> => {
      if (pgid !== undefined) {
        // A fresh channel: the hung one may not carry signals. sudo -n for groups that became root.
        await this.execRaw(`kill -KILL -- -${pgid} 2>/dev/null || sudo -n kill -KILL -- -${pgid} 2>/dev/null; true`).catch(() => undefined);
      }
      channel.close();
    };
    return new Promise((resolve) => {
      const timer = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            void killRemote();
          }, options.timeoutMs)
        : undefined;
      const onAbort = (): void => {
        cancelled = true;
        void killRemote();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      channel.on('data', (data: Buffer) => {
        const text = data.toString('utf8');
        stdout = appendTail(stdout, text, maxCapture);
        stillDraining();
        options.onStdout?.(text);
      });
      channel.stderr.on('data', (data: Buffer) => {
        let text = data.toString('utf8');
        if (pgid === undefined) {
          stderrHead += text;
          const nl = stderrHead.indexOf('\n');
          if (nl < 0) return;
          const first = stderrHead.slice(0, nl);
          if (first.startsWith(PGID_MARK)) pgid = Number(first.slice(PGID_MARK.length));
          else pgid = -1;
          text = first.startsWith(PGID_MARK) ? stderrHead.slice(nl + 1) : stderrHead;
          stderrHead = '';
          if (!text) return;
        }
        stderr = appendTail(stderr, text, maxCapture);
        stillDraining();
        options.onStderr?.(text);
      });
      let drainTimer: NodeJS.Timeout | undefined;
      const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
      let drainCap = 0;
      onExit = () => {
        // sshd closes the channel only once nothing holds the command's output open: a process left
        // behind (in the group or out of it) would keep this waiting forever. Output still in flight
        // on a slow link keeps it open a while (each chunk restarts the wait, up to ten waits).
        drainCap = Date.now() + 10 * drainMs;
        drainTimer = setTimeout(() => void killRemote(), drainMs);
      };
      const stillDraining = (): void => {
        if (drainTimer && Date.now() < drainCap) drainTimer.refresh();
      };
      if (exited) onExit();
      if (options.input !== undefined) channel.end(options.input);
      // ssh2 passes the exit status to 'close' as well (like node's child processes); take it from
      // there when the 'exit' event did not come first.
      channel.on('close', (code?: number | null, signalName?: string) => {
        if (exitCode === null && typeof code === 'number') exitCode = code;
        if (exitSignal === undefined && typeof signalName === 'string') exitSignal = signalName;
        if (timer) clearTimeout(timer);
        if (drainTimer) clearTimeout(drainTimer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode, exitSignal, stdout, stderr, timedOut, cancelled, durationMs: Math.round(performance.now() - started) });
      });
    });
  }

  /** A command without the process-group wrapper (for the kill itself). */
  private execRaw(command: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(err);
        ch.on('close', () => resolve());
        ch.resume();
        ch.stderr.resume();
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
  }

  async upload(content: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
    const sftp = await this.sftp();
    try {
      await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath, content, { mode }, (err) => (err ? reject(err) : resolve())));
    } finally {
      sftp.end();
    }
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    const sftp = await this.sftp();
    try {
      await new Promise<void>((resolve, reject) => sftp.fastGet(remotePath, localPath, (err) => (err ? reject(err) : resolve())));
    } finally {
      sftp.end();
    }
  }

  /** A unique path under the guest's /tmp. */
  static tempPath(suffix: string): string {
    return `/tmp/zfslab-${randomBytes(4).toString('hex')}${suffix}`;
  }

  close(): void {
    this.client.end();
  }
}
