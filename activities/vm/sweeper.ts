import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../lib/log.js';
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from '../../lib/process-identity.js';
import { readCloneLabel } from './qcow2-storage.js';
import type { Hypervisor } from './hypervisor.js';
import type { CloneLabel, Storage } from './storage.js';

/**
 * Destroys clones (and their VMs) whose run is closed or unknown, or whose owning worker process is
 * gone: after a worker crash or a host reboot nothing else would. A clone whose owner died is an orphan
 * even while its run is open (the run's retried activity boots a fresh clone), and whatever its age. A clone is recognised by its labels: the label.json in its dir (qemu's
 * pid file and QMP socket live there too) and, on ZFS, the zfslab:run user property.
 */
export interface SweepOptions {
  cloneRoot: string;
  storages: readonly Storage[];
  hypervisor: Hypervisor;
  /** True while the run that owns a clone may still use it (e.g. its workflow is running). */
  isRunOpen: (runId: string) => Promise<boolean>;
  /** Clones younger than this are left alone (they may be booting for a run not yet visible). */
  minAgeMs?: number;
  /** The sweeping worker (default: this process). A clone another live process owns is that process's to clean. */
  self?: ProcessIdentity;
  now?: () => number;
  log?: Logger;
}

export interface SweepReport {
  destroyed: { cloneId: string; runId: string; reason: 'run-closed' | 'owner-gone' | 'unlabelled' }[];
  kept: { cloneId: string; runId: string }[];
  errors: { cloneId: string; error: string }[];
}

export async function sweepOrphanClones(options: SweepOptions): Promise<SweepReport> {
  const log = options.log ?? createLogger('sweeper');
  const now = options.now ?? Date.now;
  const minAgeMs = options.minAgeMs ?? 60_000;
  const self = options.self ?? currentProcessIdentity();
  const report: SweepReport = { destroyed: [], kept: [], errors: [] };
  const seen = new Map<string, { label: CloneLabel | undefined; storages: Storage[] }>();
  if (existsSync(options.cloneRoot)) {
    for (const cloneId of readdirSync(options.cloneRoot)) {
      seen.set(cloneId, { label: readCloneLabel(join(options.cloneRoot, cloneId)), storages: [] });
    }
  }
  for (const storage of options.storages) {
    for (const label of await storage.listClones(options.cloneRoot)) {
      const entry = seen.get(label.cloneId) ?? { label: label.runId ? label : undefined, storages: [] };
      entry.label ??= label.runId ? label : undefined;
      entry.storages.push(storage);
      seen.set(label.cloneId, entry);
    }
  }
  for (const [cloneId, { label, storages }] of seen) {
    const runId = label?.runId ?? '';
    try {
      // A clone whose owner died will not be used again, whatever its age or its run's state. One another
      // live worker owns (a second stack on this host, another Temporal) is left to it: its runs are not ours to judge.
      const owner = label?.owner;
      const ownerGone = owner !== undefined && !isProcessAlive(owner);
      const ownedByOther = owner !== undefined && !ownerGone && !(self && owner.pid === self.pid && owner.startTicks === self.startTicks);
      const inUse =
        !ownerGone && label !== undefined && (ownedByOther || now() - Date.parse(label.createdAt) < minAgeMs || (await options.isRunOpen(label.runId)));
      if (inUse) {
        report.kept.push({ cloneId, runId });
        continue;
      }
      const dir = join(options.cloneRoot, cloneId);
      await options.hypervisor.kill({ pidFilePath: join(dir, 'qemu.pid'), qmpSocketPath: join(dir, 'qmp.sock') });
      const fallback: CloneLabel = label ?? { cloneId, runId: '', golden: '', createdAt: '' };
      for (const storage of storages) await storage.destroyClone(fallback, dir);
      rmSync(dir, { recursive: true, force: true });
      const reason = ownerGone ? 'owner-gone' : label ? 'run-closed' : 'unlabelled';
      report.destroyed.push({ cloneId, runId, reason });
      log.info({ cloneId, runId, reason }, 'orphan clone destroyed');
    } catch (err) {
      report.errors.push({ cloneId, error: (err as Error).message });
      log.error({ err, cloneId }, 'could not sweep clone');
    }
  }
  return report;
}
