import type { Logger } from '../../lib/log.js';
import type { SweepReport } from './sweeper.js';

export interface SweepSchedule {
  /** Stops the periodic sweeps (one in flight finishes on its own). */
  stop(): void;
}

/**
 * Runs the orphan sweep once now (awaited: clones and VMs a crashed worker or a rebooted host left are
 * gone before the worker takes new work) and then every `intervalSeconds` (0: only now), never two at
 * once. A sweep that fails is logged and the worker goes on: the next sweep tries again.
 */
export async function startOrphanSweeps(sweep: () => Promise<SweepReport>, intervalSeconds: number, log: Logger): Promise<SweepSchedule> {
  const sweepLogged = async (): Promise<SweepReport | undefined> => {
    try {
      return await sweep();
    } catch (err) {
      log.warn({ err }, 'orphan sweep failed; continuing');
      return undefined;
    }
  };
  const first = await sweepLogged();
  if (first) log.info({ swept: first }, 'orphan sweep at start');
  if (intervalSeconds <= 0) return { stop: () => undefined };
  // A run closed while its clone's destroy failed, a clone of a run cancelled from outside.
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweepLogged()
      .then((report) => {
        if (report && report.destroyed.length > 0) log.info({ swept: report }, 'scheduled orphan sweep');
      })
      .finally(() => (sweeping = false));
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
