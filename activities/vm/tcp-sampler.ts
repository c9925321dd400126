import { setTimeout as sleep } from 'node:timers/promises';
import { parseTick, SAMPLE_SCRIPT, type TcpTick } from '../../core/network/tcp-stats.js';
import type { Executor } from '../../lib/exec/executor.js';
import type { Logger } from '../../lib/log.js';

export interface TcpSampler {
  /** Stops sampling (after the tick in flight) and returns the timeline. */
  stop(): Promise<TcpTick[]>;
}

/**
 * Samples every namespace's TCP flows (`ss -tin`) and qdisc drops (`tc -s qdisc`) on a target, as root,
 * every `intervalMs` while a workload runs. A tick that fails (the target went away) ends the sampling
 * quietly: the timeline so far is what there is.
 */
export function startTcpSampler(
  target: Pick<Executor, 'exec'>,
  options: { intervalMs?: number; sudo?: boolean; log: Logger; onTick?: (tick: TcpTick, previous: TcpTick | undefined) => void },
): TcpSampler {
  const interval = options.intervalMs ?? 2_000;
  const ticks: TcpTick[] = [];
  const started = Date.now();
  const stopped = new AbortController();
  const argv = options.sudo === false ? ['sh', '-c', SAMPLE_SCRIPT] : ['sudo', '-n', 'sh', '-c', SAMPLE_SCRIPT];
  const tick = async (): Promise<boolean> => {
    try {
      const r = await target.exec(argv, { timeoutMs: 15_000 });
      if (r.exitCode !== 0) {
        options.log.debug({ exitCode: r.exitCode, stderr: r.stderr.slice(-300) }, 'TCP sample failed: sampling stops');
        return false;
      }
      const tick = parseTick(r.stdout, Date.now() - started);
      options.onTick?.(tick, ticks[ticks.length - 1]);
      ticks.push(tick);
      return true;
    } catch (err) {
      options.log.debug({ err }, 'TCP sampling ends: the target does not answer');
      return false;
    }
  };
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      if (!(await tick())) return false;
      await sleep(interval, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
    return true;
  })();
  return {
    async stop() {
      stopped.abort();
      // One last look at the totals, unless the target already stopped answering.
      if (await loop) await tick();
      return ticks;
    },
  };
}
