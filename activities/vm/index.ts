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
import { loadGoldenManifest, loadGoldenRef, type GoldenRef } from './golden-ref.js';
import { artifactKeys } from '../../core/artifact-keys.js';
import type { CrashKind } from '../../core/crash/mark.js';
import type { NetworkSummary } from '../../core/network/tcp-stats.js';
import { zfsNumericVersion } from '../../core/vm/manifest.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { GuestCrash, withClone, type CloneOptions } from './lifecycle.js';
import { createStorage } from './select-storage.js';
import { hypervisorResolver } from './hypervisor.js';
import { QemuHypervisor } from './qemu-hypervisor.js';
import { runRecipe, type RecipeRunResult } from './run-recipe.js';
import type { Storage } from './storage.js';
import { sweepOrphanClones, type SweepReport } from './sweeper.js';
import { tickDelta, type TcpTick } from '../../core/network/tcp-stats.js';
import { recordTcpDelta, type ProbeMetrics } from '../../lib/probe-metrics.js';

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
  /** Where a recipe's output and console go (S3): its result carries their keys, not the text. */
  artifacts?: ArtifactStore;
  /** The host worker's exporter: a recipe's TCP samples feed its zfs_replication_* series, labelled with this host. */
  probeMetrics?: { metrics: ProbeMetrics; hostId: string };
}

export interface CloneRunInfo {
  cloneId: string;
  bootSeconds: number;
  bootAttempts: number;
  accel: 'kvm' | 'tcg';
}

/** A recipe's verdict as the workflow sees it: output and console are in S3, only their keys and a tail here. */
export interface RecipeInCloneResult {
  outcome: RecipeRunResult['outcome'];
  exitCode: number | null;
  durationSeconds: number;
  /** When the guest kernel died under it; the console excerpt is at `consoleKey`. */
  crash?: { kind: CrashKind; headline: string; signature: string; consoleKey: string };
  outputKey: string;
  outputBytes: number;
  /** The last lines of its output, for the CLI. */
  outputTail: string;
  clone: CloneRunInfo;
  /** What it ran on: the golden and what its manifest says is inside. */
  golden: { name: string; kernelRelease: string; openzfsVersion: string };
  /** The guest's TCP flows while it ran: the summary here, the whole timeline at `timelineKey`. */
  network?: { summary: NetworkSummary; timelineKey: string };
}

/** Output kept in the workflow's result (the whole is in S3). */
const OUTPUT_TAIL = 2_000;

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
      flavorId: string;
      goldenDir: string;
      recipe: { name: string; script: string; timeoutMs: number; env?: Record<string, string> };
      artifactsDir?: string;
      size?: VmSize;
    }): Promise<RecipeInCloneResult> {
      const artifacts = deps.artifacts;
      if (!artifacts) throw ApplicationFailure.nonRetryable('this host worker has no artifact store for recipe output', 'NoArtifactStore');
      const manifest = loadGoldenManifest(input.goldenDir);
      const { value, clone } = await inClone(input.runId, input.goldenDir, input.size, input.artifactsDir, (vm) =>
        runRecipe(vm, input.recipe, {
          signal: Context.current().cancellationSignal,
          log,
          ...(deps.probeMetrics ? { onTcpTick: tcpExporter(deps.probeMetrics, input.flavorId) } : {}),
        }),
      );
      const prefix = artifactKeys.shardPrefix(input.runId, input.flavorId, 'recipe');
      const output = `# stdout\n${value.stdout}\n# stderr\n${value.stderr}`;
      const put = await artifacts.putBytes(`${prefix}/output.log`, output, 'text/plain; charset=utf-8');
      let crash: RecipeInCloneResult['crash'];
      if (value.crash) {
        const consoleKey = `${prefix}/console.log`;
        await artifacts.putBytes(consoleKey, value.crash.excerpt + '\n', 'text/plain; charset=utf-8');
        crash = { kind: value.crash.kind, headline: value.crash.headline, signature: value.crash.signature, consoleKey };
      }
      let network: RecipeInCloneResult['network'];
      if (value.network) {
        const timelineKey = `${prefix}/tcp-timeline.ndjson`;
        await artifacts.putBytes(timelineKey, value.network.timeline.map((t) => JSON.stringify(t)).join('\n') + '\n', 'application/x-ndjson');
        network = { summary: { ...value.network.summary, flows: value.network.summary.flows.slice(0, 20) }, timelineKey };
      }
      return {
        ...(network ? { network } : {}),
        outcome: value.outcome,
        exitCode: value.exitCode,
        durationSeconds: value.durationSeconds,
        ...(crash ? { crash } : {}),
        outputKey: put.key,
        outputBytes: put.bytes,
        outputTail: output.slice(-OUTPUT_TAIL),
        clone,
        golden: { name: manifest.name, kernelRelease: manifest.kernelRelease, openzfsVersion: zfsNumericVersion(manifest.zfsVersion.kmod) },
      };
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

function tcpExporter(exporter: { metrics: ProbeMetrics; hostId: string }, flavor: string): (tick: TcpTick, previous: TcpTick | undefined) => void {
  return (tick, previous) => recordTcpDelta(exporter.metrics, { flavor, host: exporter.hostId }, tickDelta(previous, tick));
}
