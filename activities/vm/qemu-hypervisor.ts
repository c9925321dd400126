import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { buildQemuArgv, type Accelerator, type QemuSpec } from '../../core/vm/qemu-argv.js';
import type { Logger } from '../../lib/log.js';
import { createLogger } from '../../lib/log.js';
import { InfraError } from '../../lib/errors.js';
import { QmpClient } from './qmp.js';
import { runCommand } from '../../lib/exec/run-command.js';

/** A started VM, as data: enough to find and stop it again from another activity or after a crash. */
export interface VmHandle {
  name: string;
  pid: number;
  qmpSocketPath: string;
  pidFilePath: string;
  serialLogPath: string;
  sshHostPort: number;
  accel: Accelerator;
}

/** Reads a pid file and checks the pid is still the qemu that wrote it (its argv names the pid file). */
export function livePidFromFile(pidFilePath: string): number | undefined {
  if (!existsSync(pidFilePath)) return undefined;
  const pid = Number(readFileSync(pidFilePath, 'utf8').trim());
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
export class QemuHypervisor {
  readonly accel: Accelerator;
  private readonly qemuBinary: string;
  private readonly log: Logger;

  constructor(options: QemuHypervisorOptions) {
    this.accel = options.accel;
    this.qemuBinary = options.qemuBinary ?? 'qemu-system-x86_64';
    this.log = options.log ?? createLogger('qemu');
  }

  async start(spec: Omit<QemuSpec, 'accel' | 'daemonize' | 'qemuBinary'>): Promise<VmHandle> {
    const argv = buildQemuArgv({ ...spec, accel: this.accel, daemonize: true, qemuBinary: this.qemuBinary });
    this.log.debug({ argv }, 'starting qemu');
    try {
      await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 60_000 });
    } catch (err) {
      throw new InfraError(`qemu did not start: ${(err as Error).message}`, { cause: err });
    }
    const pid = livePidFromFile(spec.pidFilePath);
    if (!pid) throw new InfraError(`qemu started but ${spec.pidFilePath} names no live qemu`);
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

  private async waitForExit(vm: Pick<VmHandle, 'pidFilePath'>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning(vm)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return !this.isRunning(vm);
  }
}
