import type { KstatSample } from './stream.js';

/**
 * What changed between two kstat samples: the ARC's counters as deltas (a counter that went back,
 * the module reloaded, counts from zero), its lists' sizes as they are now, and the txgs that were
 * seen committed for the first time. The first sample only sets the starting point: txgs it already
 * shows as committed synced before the probes looked, and are not counted.
 */
export interface KstatStep {
  atMs: number;
  arc?: ArcDelta;
  /** ARC list sizes (mru, mfu, their ghosts, anon, uncached) and the ARC's own size, bytes. */
  arcSizes: Record<string, number>;
  availableBytes?: number;
  slabAllocBytes?: number;
  txgSyncs: { pool: string; txg: number; syncSeconds: number; writtenBytes: number }[];
}

export interface ArcDelta {
  hits: number;
  misses: number;
  /** Bytes evicted: `evict_l2_cached + evict_l2_eligible + evict_l2_ineligible` (every eviction is one of them). */
  evictedBytes: number;
  /** Allocations throttled for memory, and the ARC's direct/indirect reclaims (arcstats `memory_*_count`). */
  memoryThrottles: number;
  directReclaims: number;
  indirectReclaims: number;
}

const ARC_LISTS: Record<string, string> = {
  mru_size: 'mru',
  mfu_size: 'mfu',
  mru_ghost_size: 'mru_ghost',
  mfu_ghost_size: 'mfu_ghost',
  anon_size: 'anon',
  uncached_size: 'uncached',
};

export class KstatStepper {
  private previousArc: Map<string, number> | undefined;
  private readonly committed = new Set<string>();
  private first = true;

  next(sample: KstatSample): KstatStep {
    const step: KstatStep = { atMs: sample.atMs, arcSizes: {}, txgSyncs: [] };
    if (sample.arc) {
      for (const [field, list] of Object.entries(ARC_LISTS)) {
        const v = sample.arc.get(field);
        if (v !== undefined) step.arcSizes[list] = v;
      }
      const available = sample.arc.get('memory_available_bytes');
      if (available !== undefined) step.availableBytes = available;
      if (this.previousArc) step.arc = arcDelta(this.previousArc, sample.arc);
      this.previousArc = sample.arc;
    }
    if (sample.slabAllocBytes !== undefined) step.slabAllocBytes = sample.slabAllocBytes;
    for (const [pool, rows] of sample.txgs) {
      for (const row of rows) {
        if (row.state !== 'C') continue;
        const key = `${pool}\t${row.txg}\t${row.birth}`;
        if (this.committed.has(key)) continue;
        this.committed.add(key);
        if (!this.first) step.txgSyncs.push({ pool, txg: row.txg, syncSeconds: row.syncNs / 1e9, writtenBytes: row.nwrittenBytes });
      }
    }
    this.first = false;
    return step;
  }
}

function arcDelta(before: Map<string, number>, now: Map<string, number>): ArcDelta {
  const d = (field: string): number => {
    const a = before.get(field) ?? 0;
    const b = now.get(field) ?? 0;
    return b >= a ? b - a : b;
  };
  return {
    hits: d('hits'),
    misses: d('misses'),
    evictedBytes: d('evict_l2_cached') + d('evict_l2_eligible') + d('evict_l2_ineligible'),
    memoryThrottles: d('memory_throttle_count'),
    directReclaims: d('memory_direct_count'),
    indirectReclaims: d('memory_indirect_count'),
  };
}

export function kstatSteps(samples: readonly KstatSample[]): KstatStep[] {
  const stepper = new KstatStepper();
  return samples.map((s) => stepper.next(s));
}
