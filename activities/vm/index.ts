import { ApplicationFailure, Context } from '@temporalio/activity';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Flavor, Lineage } from '../../core/catalog/schema.js';
import { goldenName, goldenRecipeHash } from '../../core/vm/recipe.js';
import { InfraError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import { defaultCloneDir, defaultGoldenCacheDir } from '../golden/paths.js';
import { withHeartbeats } from '../heartbeat.js';
import { HostCapacity } from './capacity.js';
import { loadGoldenRef, type GoldenRef } from './golden-ref.js';
import { GuestCrash, withClone, type CloneOptions } from './lifecycle.js';
import { createStorage } from './select-storage.js';
import { hypervisorResolver } from './hypervisor.js';
import { QemuHypervisor } from './qemu-hypervisor.js';
import { runRecipe, type RecipeRunResult } from './run-recipe.js';
import type { Storage } from './storage.js';
import { sweepOrphanClones, type SweepReport } from './sweeper.js';

export const VmSizeSchema = z.object({
  cpus: z.number().int().min(1).max(64).default(2),
  memoryMiB: z.number().int().min(512).default(4096),
  vdevCount: z.number().int().min(0).max(16).default(3),
  vdevSizeGiB: z.number().int().min(1).default(4),
});
export type VmSize = z.input<typeof VmSizeSchema>;

export interface VmActivityDeps {
  /** Golden cache (default /var/cache/zfslab/goldens as root). */
  cacheDir?: string;
  /** Clone dirs (default /var/lib/zfslab/clones as root). */
  cloneRoot?: string;
  /** config host.maxVms; also capped by CPUs and RAM. */
  maxVms: number;
  /** The host's one VM budget, shared with the ZTS VM target provider; made from maxVms when absent. */
  capacity?: HostCapacity;
  storage?: Storage;
  /** For the sweeper: is this run still open (its workflow running)? */
  isRunOpen?: (runId: string) => Promise<boolean>;
  bootTimeoutMs?: number;
  /** Restore clones from the golden's saved running machine (default false). */
  instantClones?: boolean;
}

export interface CloneRunInfo {
  cloneId: string;
  bootSeconds: number;
  bootAttempts: number;
  accel: 'kvm' | 'tcg';
}

export interface RecipeInCloneResult extends RecipeRunResult {
  clone: CloneRunInfo;
}

/** The published golden for a flavor's current recipe, or undefined when it is not built on this host. */
export function findGolden(cacheDir: string, flavor: Flavor, lineage: Lineage): GoldenRef | undefined {
  const name = goldenName(flavor.id, lineage, goldenRecipeHash({ flavor, lineage }));
  const dir = join(cacheDir, name);
  return existsSync(join(dir, 'manifest.json')) ? loadGoldenRef(dir) : undefined;
}

/**
 * VM activities of a host worker: each runs a whole clone → boot → work → destroy inside one
 * activity (the clone never outlives it), heartbeating while it runs; cancellation kills the VM.
 * A guest kernel crash is an infrastructure failure (retryable); a test or recipe failing is a result.
 */
export function createVmActivities(deps: VmActivityDeps) {
  const log = createLogger('vm');
  const cacheDir = deps.cacheDir ?? defaultGoldenCacheDir();
  const cloneRoot = deps.cloneRoot ?? defaultCloneDir();
  const storage = deps.storage ?? createStorage();
  const capacity = deps.capacity ?? new HostCapacity({ maxVms: deps.maxVms });
  const hypervisorFor = hypervisorResolver(cacheDir, log);

  async function inClone<T>(
    runId: string,
    goldenDir: string,
    size: VmSize | undefined,
    artifactsDir: string | undefined,
    body: Parameters<typeof withClone<T>>[1],
  ): Promise<{ value: T; clone: CloneRunInfo }> {
    const golden = loadGoldenRef(goldenDir);
    const hypervisor = await hypervisorFor(golden);
    const vm = VmSizeSchema.parse(size ?? {});
    const phase = { phase: 'cloning', cloneId: '' };
    const options: CloneOptions = {
      runId,
      golden,
      storage,
      hypervisor,
      cloneRoot,
      ...vm,
      bootTimeoutMs: deps.bootTimeoutMs,
      instant: deps.instantClones ?? false,
      artifactsDir,
      capacity,
      signal: Context.current().cancellationSignal,
      log,
      onState: (state, detail) => {
        phase.phase = state;
        if (typeof detail.cloneId === 'string') phase.cloneId = detail.cloneId;
      },
    };
    let info: CloneRunInfo | undefined;
    try {
      const value = await withHeartbeats(
        () => phase,
        () =>
          withClone(options, async (ready) => {
            info = { cloneId: ready.cloneId, bootSeconds: ready.bootSeconds, bootAttempts: ready.bootAttempts, accel: ready.vm.accel };
            return body(ready);
          }),
        5_000,
      );
      return { value, clone: info! };
    } catch (err) {
      if (err instanceof GuestCrash) throw ApplicationFailure.retryable(err.message, 'GuestCrash', { serialLogPath: err.serialLogPath });
      if (err instanceof InfraError) throw ApplicationFailure.retryable(err.message, err.name);
      throw err;
    }
  }

  return {
    /** Runs a recipe script as root in a fresh clone: PASS/FAIL by exit code, KILLED at its timeout. */
    async runRecipeInClone(input: {
      runId: string;
      goldenDir: string;
      recipe: { name: string; script: string; timeoutMs: number; env?: Record<string, string> };
      artifactsDir?: string;
      size?: VmSize;
    }): Promise<RecipeInCloneResult> {
      const { value, clone } = await inClone(input.runId, input.goldenDir, input.size, input.artifactsDir, (vm) =>
        runRecipe(vm, input.recipe, { signal: Context.current().cancellationSignal }),
      );
      return { ...value, clone };
    },

    /** Destroys clones and VMs whose run is closed or unknown (schedule it, and run it at worker start). */
    async sweepOrphanClones(): Promise<SweepReport> {
      return sweepOrphanClones({
        cloneRoot,
        storages: [storage],
        hypervisor: new QemuHypervisor({ accel: 'tcg', log }),
        isRunOpen: deps.isRunOpen ?? (async () => false),
        log,
      });
    },

    /** Where this host keeps the golden of a flavor's current recipe, or null when not built. */
    async findGolden(input: { flavor: Flavor; lineage: Lineage }): Promise<{ name: string; goldenDir: string } | null> {
      const ref = findGolden(cacheDir, input.flavor, input.lineage);
      return ref ? { name: ref.name, goldenDir: ref.dir } : null;
    },
  };
}

export type VmActivities = ReturnType<typeof createVmActivities>;
