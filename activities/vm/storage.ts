import { z } from 'zod';
import { ProcessIdentitySchema } from '../../lib/process-identity.js';

/**
 * Where clone disks come from. Two backends: qcow2 overlays (any host) and ZFS zvol clones of a
 * golden's @golden snapshot (a ZFS host). The interface is small on purpose: a clone is made from
 * a golden, listed by its labels, destroyed.
 */
export interface GoldenDisk {
  /** Golden name (flavor-lineage-hash16). */
  name: string;
  /** The golden's disk image on the host. */
  path: string;
  format: 'qcow2' | 'raw';
}

export const CloneLabelSchema = z.object({
  cloneId: z.string().regex(/^[a-z0-9-]{1,40}$/),
  runId: z.string().min(1),
  golden: z.string(),
  createdAt: z.string(),
  /**
   * The worker process that made the clone and is the only one that uses it. Once that process is gone
   * (killed, host rebooted) the clone is an orphan even while its run goes on: the run's retry boots a
   * clone of its own. Absent on labels of older versions and on ZFS-only listings.
   */
  owner: ProcessIdentitySchema.optional(),
});
export type CloneLabel = z.infer<typeof CloneLabelSchema>;

export interface CloneDisk {
  label: CloneLabel;
  /** What qemu opens as the root disk. */
  path: string;
  format: 'qcow2' | 'raw';
}

export interface Storage {
  readonly kind: 'qcow2' | 'zfs';
  createClone(golden: GoldenDisk, label: CloneLabel, cloneDir: string): Promise<CloneDisk>;
  destroyClone(label: CloneLabel, cloneDir: string): Promise<void>;
  /** Clones this backend holds, by their labels (for the orphan sweeper). */
  listClones(cloneRoot: string): Promise<CloneLabel[]>;
}
