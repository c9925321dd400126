import { z } from 'zod';

/**
 * What the detector tolerates. Defaults: counts within ~5%, p99 within ~10%. `zfslab
 * fingerprint verify` derives a file of these from two or more captures of the same workload.
 */
const ratio = z.number().min(0).max(100);
const keyList = z.array(z.string());

export const TolerancesSchema = z.strictObject({
  schema_version: z.literal(1),
  /** Relative change allowed, per category (0.05 = 5%). */
  counts: z.strictObject({
    syscalls: ratio,
    binaries_spawned: ratio,
    ioctl_codes: ratio,
    network_destinations: ratio,
  }),
  /** Relative p99 change allowed. */
  latency: ratio,
  /**
   * Compare counts as they are (`count`: a fixed amount of work, e.g. a ZTS runfile) or per second
   * (`rate`: a time-bounded workload, e.g. a server over an hour). `auto`: per second when either
   * capture was cut by its duration limit, as they are when both ran to the end (normalising a
   * fixed amount of work by its run time only adds timing noise). `verify` picks whichever varied less.
   */
  rate_basis: z.enum(['count', 'rate', 'auto']),
  /** Counts below this (in both captures) are too small for a relative comparison. */
  min_count: z.number().int().min(0),
  /** A p99 over fewer calls than this is not compared. */
  min_kfunc_calls: z.number().int().min(0),
  /** Keys seen in only some of the verify captures: their appearing or vanishing is not schema drift. */
  unstable: z
    .strictObject({
      syscalls: keyList,
      binaries_spawned: keyList,
      ioctl_codes: keyList,
      network_destinations: keyList,
      filesystem_paths_modified: keyList,
      filesystem_paths_read: keyList,
    })
    .prefault({ syscalls: [], binaries_spawned: [], ioctl_codes: [], network_destinations: [], filesystem_paths_modified: [], filesystem_paths_read: [] }),
  /** Where these came from (verify fills it). */
  derived_from: z.strictObject({ workload: z.string(), captures: z.number().int().min(2), captured_at: z.array(z.string()) }).optional(),
});
export type Tolerances = z.infer<typeof TolerancesSchema>;

export const DEFAULT_TOLERANCES: Tolerances = {
  schema_version: 1,
  counts: { syscalls: 0.05, binaries_spawned: 0.05, ioctl_codes: 0.05, network_destinations: 0.05 },
  latency: 0.1,
  rate_basis: 'auto',
  min_count: 20,
  min_kfunc_calls: 100,
  unstable: { syscalls: [], binaries_spawned: [], ioctl_codes: [], network_destinations: [], filesystem_paths_modified: [], filesystem_paths_read: [] },
};

/**
 * The spread two captures of the same workload may show and still count as stable (5% counts, 10%
 * p99 latency); also the floors of derived tolerances, so that a few quiet runs never yield a
 * tolerance tighter than ordinary run-to-run noise.
 */
export const STABLE_COUNT_SPREAD = 0.05;
export const STABLE_LATENCY_SPREAD = 0.1;
