import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { buildQemuArgv, type Accelerator } from '../../core/vm/qemu-argv.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import type { Logger } from '../../lib/log.js';
import { createLogger } from '../../lib/log.js';
import { InfraError } from '../../lib/errors.js';
import { QmpClient } from './qmp.js';
import { runCommand } from '../../lib/exec/run-command.js';
import type { Hypervisor, VmHandle, VmRef, VmStartSpec } from './hypervisor.js';

export type { VmHandle } from './hypervisor.js';

/** Reads a pid file and checks the pid is still the qemu that wrote it (its argv names the pid file). */
export function livePidFromFile(pidFilePath: string): number | undefined {
  // qemu removes its pid file when it exits, so the file can vanish between any two calls: read it once.
  let pid: number;
  try {
    pid = Number(readFileSync(pidFilePath, 'utf8').trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(pidFilePath) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1 (qemu binds it right after; a lost race fails the start, which is retried). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface QemuHypervisorOptions {
  accel: Accelerator;
  qemuBinary?: string;
  log?: Logger;
}

/** Starts qemu detached (-daemonize), stops it through QMP, kills it by pid when QMP does not answer. */
export class QemuHypervisor implements Hypervisor {
  readonly kind = 'qemu' as const;
  readonly accel: Accelerator;
  private readonly qemuBinary: string;
  private readonly log: Logger;

  constructor(options: QemuHypervisorOptions) {
    this.accel = options.accel;
    this.qemuBinary = options.qemuBinary ?? 'qemu-system-x86_64';
    this.log = options.log ?? createLogger('qemu');
  }

  /** With `incomingStateFile`, returns once the saved machine is loaded and running again (or throws). */
  async start(spec: VmStartSpec, restoreTimeoutMs = 300_000): Promise<VmHandle> {
    // qemu would wait for a stream that never comes rather than fail.
    if (spec.incomingStateFile !== undefined && !existsSync(spec.incomingStateFile)) {
      throw new InfraError(`${spec.name}: no saved state at ${spec.incomingStateFile}`);
    }
    const argv = buildQemuArgv({ ...spec, accel: this.accel, daemonize: true, qemuBinary: this.qemuBinary });
    this.log.debug({ argv }, 'starting qemu');
    try {
      await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 60_000 });
    } catch (err) {
      throw new InfraError(`qemu did not start: ${(err as Error).message}`, { cause: err });
    }
    const pid = livePidFromFile(spec.pidFilePath);
    if (!pid) {
      if (spec.incomingStateFile !== undefined) throw new InfraError(`${spec.name}: qemu exited at once loading the saved state ${spec.incomingStateFile}`);
      throw new InfraError(`qemu started but ${spec.pidFilePath} names no live qemu`);
    }
    if (spec.incomingStateFile !== undefined) await this.resume(spec, restoreTimeoutMs);
    return {
      name: spec.name,
      pid,
      qmpSocketPath: spec.qmpSocketPath,
      pidFilePath: spec.pidFilePath,
      serialLogPath: spec.serialLogPath,
      sshHostPort: spec.sshHostPort,
      accel: this.accel,
    };
  }

  isRunning(vm: Pick<VmHandle, 'pidFilePath'>): boolean {
    return livePidFromFile(vm.pidFilePath) !== undefined;
  }

  /** ACPI power-off through QMP; the guest shuts down cleanly or is killed after graceMs. */
  async shutdown(vm: Pick<VmHandle, 'pidFilePath' | 'qmpSocketPath'>, graceMs = 60_000): Promise<'clean' | 'killed' | 'gone'> {
    if (!this.isRunning(vm)) return 'gone';
    try {
      const qmp = await QmpClient.connect(vm.qmpSocketPath);
      try {
        await qmp.execute('system_powerdown');
      } finally {
        qmp.close();
      }
      if (await this.waitForExit(vm, graceMs)) return 'clean';
    } catch (err) {
      this.log.warn({ err }, 'QMP powerdown failed');
    }
    await this.kill(vm);
    return 'killed';
  }

  /** Ends qemu now: QMP `quit`, then SIGKILL of the recorded pid. Idempotent. */
  async kill(vm: Pick<VmHandle, 'pidFilePath' | 'qmpSocketPath'>): Promise<void> {
    if (!this.isRunning(vm)) return;
    try {
      const qmp = await QmpClient.connect(vm.qmpSocketPath, 2_000);
      await qmp.execute('quit', undefined, 2_000).catch(() => undefined);
      qmp.close();
      if (await this.waitForExit(vm, 5_000)) return;
    } catch {
      // QMP gone or wedged: fall through to the signal
    }
    const pid = livePidFromFile(vm.pidFilePath);
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      await this.waitForExit(vm, 5_000);
    }
  }

  /**
   * A machine saved paused comes back paused once the stream is read: wait for that, then `cont`.
   * A stream qemu cannot read (missing, another qemu's device set) ends qemu or fails the migration.
   */
  private async resume(vm: VmRef & { name: string }, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.isRunning(vm)) throw new InfraError(`${vm.name}: qemu exited while loading its saved state`);
      const migration = (await this.command(vm, 'query-migrate').catch(() => ({}))) as { status?: string; 'error-desc'?: string };
      if (migration.status === 'failed') {
        await this.kill(vm);
        throw new InfraError(`${vm.name}: the saved state did not load: ${migration['error-desc'] ?? 'migration failed'}`);
      }
      const { status } = (await this.command(vm, 'query-status').catch(() => ({ status: 'unknown' }))) as { status: string };
      if (status === 'running') return;
      if (status === 'paused' || status === 'postmigrate' || migration.status === 'completed') {
        await this.command(vm, 'cont');
        return;
      }
      if (Date.now() > deadline) {
        await this.kill(vm);
        throw new InfraError(`${vm.name}: the saved state did not load in ${Math.round(timeoutMs / 1000)} s (status ${status})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  serialLog(vm: Pick<VmHandle, 'serialLogPath'>): string {
    return existsSync(vm.serialLogPath) ? readFileSync(vm.serialLogPath, 'utf8') : '';
  }

  async command(vm: VmRef, name: string, args?: Record<string, unknown>, timeoutMs = 5_000): Promise<unknown> {
    const qmp = await QmpClient.connect(vm.qmpSocketPath, timeoutMs);
    try {
      return await qmp.execute(name, args, timeoutMs);
    } finally {
      qmp.close();
    }
  }

  /**
   * `stop`, then qemu's migration stream into `file` (through `exec:`, which every qemu has; the
   * `file:` URI is newer than Debian 12's 7.2), polled until it completes. A start with
   * `incomingStateFile` reads it back.
   */
  async saveState(vm: VmRef, file: string, timeoutMs = 600_000): Promise<{ bytes: number; seconds: number }> {
    const started = Date.now();
    const qmp = await QmpClient.connect(vm.qmpSocketPath);
    try {
      await qmp.execute('stop');
      await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(file)}` });
      for (;;) {
        const info = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
        if (info.status === 'completed') break;
        if (info.status === 'failed' || info.status === 'cancelled') throw new InfraError(`saving the VM state failed: ${info['error-desc'] ?? info.status}`);
        if (Date.now() - started > timeoutMs) {
          await qmp.execute('migrate_cancel').catch(() => undefined);
          throw new InfraError(`saving the VM state did not finish in ${Math.round(timeoutMs / 1000)} s`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      qmp.close();
    }
    return { bytes: statSync(file).size, seconds: (Date.now() - started) / 1000 };
  }

  private async waitForExit(vm: Pick<VmHandle, 'pidFilePath'>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning(vm)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return !this.isRunning(vm);
  }
}
