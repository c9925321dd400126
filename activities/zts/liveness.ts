import type { Logger } from '../../lib/log.js';

export interface LivenessOptions {
  /** How often the target is asked whether it still answers. */
  intervalMs: number;
  /** How many answers in a row may be missing before the target counts as dead. */
  misses: number;
  /** How long one probe may take before it counts as a miss. */
  probeTimeoutMs: number;
  log: Logger;
}

/**
 * Asks a target "are you there?" on a timer while a chunk's runner runs, and calls `onSilent` once,
 * when `misses` probes in a row got no answer: a guest wedged hard enough that its kernel printed
 * nothing (no watchdog report on the console) still stops answering SSH. One probe at a time; a probe
 * that never settles counts as a miss after `probeTimeoutMs`.
 */
export function watchLiveness(alive: (timeoutMs: number) => Promise<boolean>, options: LivenessOptions, onSilent: () => void): { stop(): void } {
  let missed = 0;
  let stopped = false;
  let probing = false;
  const probe = async (): Promise<void> => {
    if (stopped || probing) return;
    probing = true;
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      answered = await Promise.race([
        alive(options.probeTimeoutMs).catch(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.probeTimeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
      probing = false;
    }
    if (stopped) return;
    if (answered) {
      if (missed > 0) options.log.info({ missed }, 'the target answers again');
      missed = 0;
      return;
    }
    missed++;
    options.log.warn({ missed, of: options.misses }, 'the target did not answer a liveness probe');
    if (missed >= options.misses) {
      stopped = true;
      clearInterval(timer_);
      onSilent();
    }
  };
  const timer_ = setInterval(() => void probe(), options.intervalMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer_);
    },
  };
}
