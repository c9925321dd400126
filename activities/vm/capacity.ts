import { cpus as hostCpus, totalmem } from 'node:os';

/**
 * How many VMs this host runs at once: at most `maxVms`, at most one per host CPU, and only
 * while their memory fits in host RAM less a reserve. Waiters queue in order.
 */
export interface HostCapacityOptions {
  maxVms: number;
  totalMemoryMiB?: number;
  cpus?: number;
  /** RAM kept for the host itself, the worker, Temporal, MinIO. */
  reserveMemoryMiB?: number;
}

export class HostCapacity {
  private running = 0;
  private usedMemoryMiB = 0;
  private readonly queue: { memoryMiB: number; grant: () => void }[] = [];
  readonly limitVms: number;
  readonly usableMemoryMiB: number;

  constructor(options: HostCapacityOptions) {
    const cpuCount = options.cpus ?? hostCpus().length;
    this.limitVms = Math.max(1, Math.min(options.maxVms, cpuCount));
    const total = options.totalMemoryMiB ?? Math.floor(totalmem() / 1024 / 1024);
    this.usableMemoryMiB = Math.max(512, total - (options.reserveMemoryMiB ?? 2048));
  }

  get inUse(): { vms: number; memoryMiB: number } {
    return { vms: this.running, memoryMiB: this.usedMemoryMiB };
  }

  /** Waits for room for one VM of `memoryMiB`; returns the release function (call it once). */
  acquire(memoryMiB: number, signal?: AbortSignal): Promise<() => void> {
    if (memoryMiB > this.usableMemoryMiB) {
      return Promise.reject(new Error(`a VM of ${memoryMiB} MiB never fits in this host's ${this.usableMemoryMiB} MiB`));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        memoryMiB,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running += 1;
          this.usedMemoryMiB += memoryMiB;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.running -= 1;
            this.usedMemoryMiB -= memoryMiB;
            this.pump();
          });
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new Error('cancelled while waiting for a VM slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.running >= this.limitVms || this.usedMemoryMiB + next.memoryMiB > this.usableMemoryMiB) return;
      this.queue.shift();
      next.grant();
    }
  }
}
