import { z } from 'zod';
import { describeExit, type Executor } from '../../lib/exec/executor.js';
import { localExecutor } from '../../lib/exec/local.js';
import { QmpClient } from '../vm/qmp.js';
import { PowerError, type PowerDriver, type PowerState } from './power.js';

export const QmpPowerConfigSchema = z.object({
  /** qemu's QMP unix socket (-qmp unix:PATH,server=on,wait=off). */
  socketPath: z.string().min(1),
  /** Starts the VM and returns (qemu -daemonize …): "power on" for a box that is a qemu process. */
  startCommand: z.string().min(1),
  timeoutMs: z.number().int().positive().default(10_000),
});
export type QmpPowerConfig = z.input<typeof QmpPowerConfigSchema>;

/**
 * A qemu VM as the box. Off is QMP `quit`: qemu exits at once, the guest gets no shutdown and whatever
 * sat in a writeback disk cache is gone, as in a power cut. On runs the start command. The state is
 * whether the QMP socket answers with a running VM.
 */
export class QmpPowerDriver implements PowerDriver {
  readonly name: string;
  private readonly config: z.output<typeof QmpPowerConfigSchema>;

  constructor(
    config: QmpPowerConfig,
    private readonly executor: Executor = localExecutor,
  ) {
    this.config = QmpPowerConfigSchema.parse(config);
    this.name = `qmp ${this.config.socketPath}`;
  }

  async status(): Promise<PowerState> {
    let qmp: QmpClient;
    try {
      qmp = await QmpClient.connect(this.config.socketPath, this.config.timeoutMs);
    } catch {
      return 'off';
    }
    try {
      const status = (await qmp.execute('query-status', undefined, this.config.timeoutMs)) as { status?: string };
      return status.status === 'shutdown' ? 'off' : 'on';
    } finally {
      qmp.close();
    }
  }

  async request(state: PowerState): Promise<void> {
    if (state === 'on') {
      const result = await this.executor.exec(this.config.startCommand, { timeoutMs: this.config.timeoutMs });
      if (result.exitCode !== 0)
        throw new PowerError(this.name, `start command: ${describeExit(result, this.config.timeoutMs)}: ${result.stderr.trim().slice(-300)}`);
      return;
    }
    const qmp = await QmpClient.connect(this.config.socketPath, this.config.timeoutMs);
    try {
      await qmp.execute('quit', undefined, this.config.timeoutMs).catch((err: unknown) => {
        // qemu may close the socket before its reply arrives: the read-back decides.
        if (!/closed/.test((err as Error).message)) throw err;
      });
    } finally {
      qmp.close();
    }
  }
}
