import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readGoldenManifest } from '../../../activities/golden/build.js';
import { defaultGoldenCacheDir } from '../../../activities/golden/paths.js';
import { loadCatalog, LineageSchema, type Flavor } from '../../../core/catalog/index.js';
import { GoldenManifestSchema, type GoldenManifest } from '../../../core/vm/manifest.js';
import type { LoadedConfig } from '../../../lib/config.js';
import { rootCauseMessage, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { ArtifactStore } from '../../../lib/s3.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import type { GoldenBuildProgress, GoldenBuildResult } from '../../../workflows/golden.js';
import { contextFrom } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { EXIT, ExitError } from '../exit.js';
import { goldenBuildCommand, goldenShowCommand } from './golden-local.js';
import { paint, table, type Output } from '../output.js';
import { commandWaitSpec, waitForWorkflow } from '../wait.js';

const GoldenFlags = z.object({
  lineage: LineageSchema.default('ztest'),
  force: z.boolean().default(false),
  zfsSource: z.string().min(1).optional(),
  zfsBranch: z.string().min(1).optional(),
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id')
    .optional(),
  wait: z.boolean().default(true),
});

export function goldenZtestCommand(): Command {
  return new Command('golden-ztest')
    .description('build (or reuse) golden images with the ZTS payload: a durable workflow on the host, one activity per step')
    .argument('<flavor>', 'a flavor id, or all')
    .option('--lineage <lineage>', 'ztest (ZTS payload) or lean', 'ztest')
    .option('--force', 'rebuild even when a golden with this recipe exists')
    .option('--zfs-source <pathOrUrl>', 'build OpenZFS from this source tree or git URL instead of the package')
    .option('--zfs-branch <branch>', 'branch of --zfs-source')
    .option('--host <id>', 'the lab host to build on (default: this machine)')
    .option('--no-wait', 'start the build(s) and print the workflow ids')
    .action(async (flavorArg: string, rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const parsed = GoldenFlags.safeParse(rawFlags);
      if (!parsed.success) throw new UsageError(`golden-ztest: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const flags = parsed.data;
      if (flags.zfsBranch && !flags.zfsSource) throw new UsageError('golden-ztest: --zfs-branch goes with --zfs-source');
      const loaded = ctx.loaded();
      const catalog = loadCatalog(loaded.config.flavors);
      const flavors: Flavor[] = flavorArg === 'all' ? [...catalog.flavors] : [catalog.get(flavorArg)];
      const hostId = flags.host ?? resolveHostId(loaded);
      const client = await connectOrExplain(loaded.config);
      const results: { flavor: string; workflowId: string; ok: boolean; result?: GoldenBuildResult; error?: string }[] = [];
      try {
        await requireHostWorker(client, loaded.config.temporal.namespace, hostId);
        // One after the other: a DKMS build takes both cores of a small host.
        for (const flavor of flavors) {
          const workflowId = `golden-${hostId}-${flavor.id}-${flags.lineage}`;
          const handle = await client.workflow.start('goldenBuild', {
            taskQueue: loaded.config.temporal.taskQueue,
            workflowId,
            // A build of the same golden already under way is followed, not started twice.
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [
              {
                hostId,
                flavor,
                lineage: flags.lineage,
                force: flags.force,
                hostWaitSeconds: loaded.config.run.hostWaitSeconds,
                ...(flags.zfsSource ? { zfsSource: { location: flags.zfsSource, ...(flags.zfsBranch ? { branch: flags.zfsBranch } : {}) } } : {}),
              },
            ],
          });
          if (!flags.wait) {
            results.push({ flavor: flavor.id, workflowId, ok: true });
            if (!ctx.out.json) ctx.out.line(`started ${flavor.id}: ${temporalUiUrl(loaded.config, workflowId)}`);
            continue;
          }
          const printSteps = stepPrinter(ctx.out, flavor.id, () => handle.query<GoldenBuildProgress>('goldenProgress'));
          try {
            const settled = await waitForWorkflow<GoldenBuildResult>(client, handle, {
              ...commandWaitSpec(loaded.config, ctx.out, `golden ${flavor.id} (${flags.lineage})`, hostId),
              // The steps' own progress lines say enough while a worker builds; repeat the queue's status rarely.
              statusEveryMs: 600_000,
              onTick: printSteps,
              tickMs: 2_000,
            });
            if ('error' in settled) results.push({ flavor: flavor.id, workflowId, ok: false, error: rootCauseMessage(settled.error) });
            else results.push({ flavor: flavor.id, workflowId, ok: true, result: settled.value });
          } catch (err) {
            results.push({ flavor: flavor.id, workflowId, ok: false, error: rootCauseMessage(err) });
          }
          const last = results.at(-1)!;
          if (!ctx.out.json) printBuildOutcome(ctx.out, last, temporalUiUrl(loaded.config, workflowId));
        }
      } finally {
        await closeClient(client);
      }
      if (ctx.out.json) ctx.out.data(results.map((r) => ({ ...r, result: r.result && { ...r.result, manifest: summarise(r.result.manifest) } })));
      if (results.some((r) => !r.ok)) throw new ExitError(EXIT.infra);
    });
}

export function goldenCommand(): Command {
  const golden = new Command('golden').description('golden images: what is built where; a build on this host without Temporal');
  golden
    .command('list')
    .description('goldens on this host (its cache) and on every host that published one (S3)')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const loaded = ctx.loaded();
      const goldens = await listGoldens(loaded);
      if (ctx.out.json) return ctx.out.data(goldens);
      if (goldens.length === 0) return ctx.out.line('no goldens yet: build one with `zfslab golden-ztest debian13`');
      ctx.out.line(table(goldens.map(goldenRow), ['host', 'flavor', 'lineage', 'kernel', 'OpenZFS', 'built', 'name']));
    });
  golden.addCommand(goldenBuildCommand());
  golden.addCommand(goldenShowCommand());
  return golden;
}

export interface GoldenListing {
  hostId: string;
  source: 'local' | 's3';
  manifest: ReturnType<typeof summarise>;
}

/** Local cache first (the truth for this host), then what other hosts published. */
export async function listGoldens(loaded: LoadedConfig): Promise<GoldenListing[]> {
  const hostId = resolveHostId(loaded);
  const out: GoldenListing[] = [];
  const seen = new Set<string>();
  const cacheDir = defaultGoldenCacheDir();
  let names: string[] = [];
  try {
    names = readdirSync(cacheDir).filter((n) => !n.startsWith('.'));
  } catch {
    // no cache yet
  }
  for (const name of names.sort()) {
    const manifest = readGoldenManifest(join(cacheDir, name));
    if (!manifest) continue;
    seen.add(`${hostId}/${manifest.name}`);
    out.push({ hostId, source: 'local', manifest: summarise(manifest) });
  }
  const artifacts = ArtifactStore.fromConfig(loaded.config, { retryForMs: 0 });
  try {
    for (const { key } of await artifacts.list('goldens/')) {
      if (!key.endsWith('/manifest.json')) continue;
      const host = key.split('/')[1] ?? '';
      const parsed = GoldenManifestSchema.safeParse(JSON.parse((await artifacts.getText(key)) ?? 'null'));
      if (!parsed.success || seen.has(`${host}/${parsed.data.name}`)) continue;
      seen.add(`${host}/${parsed.data.name}`);
      out.push({ hostId: host, source: 's3', manifest: summarise(parsed.data) });
    }
  } catch {
    // S3 down: the local cache is still worth showing
  } finally {
    artifacts.destroy();
  }
  return out;
}

function summarise(m: GoldenManifest) {
  return {
    name: m.name,
    flavorId: m.flavorId,
    lineage: m.lineage,
    kernelRelease: m.kernelRelease,
    zfsVersion: m.zfsVersion,
    builtAt: m.builtAt,
    recipeHash: m.recipeHash,
    packages: Object.keys(m.packages).length,
    steps: m.steps,
    ...(m.zfsSource ? { zfsSource: m.zfsSource } : {}),
  };
}

export function goldenRow(g: GoldenListing): string[] {
  const m = g.manifest;
  return [g.hostId, m.flavorId, m.lineage, m.kernelRelease, m.zfsVersion.kmod.replace(/^zfs-kmod-/, ''), m.builtAt.slice(0, 16), m.name];
}

function printBuildOutcome(out: Output, r: { flavor: string; ok: boolean; result?: GoldenBuildResult; error?: string }, ui: string): void {
  if (!r.ok || !r.result) {
    out.line(`${paint(out, 'red', 'failed')}  ${r.flavor}: ${r.error ?? 'unknown error'}`);
    out.line(`        ${ui}`);
    return;
  }
  const m = r.result.manifest;
  out.line(`${paint(out, 'green', r.result.cached ? 'cached' : 'built')}  ${r.flavor}: ${m.name}`);
  out.line(`        kernel ${m.kernelRelease}; ${m.zfsVersion.userland} / ${m.zfsVersion.kmod}; ${Object.keys(m.packages).length} packages`);
  const timed = r.result.steps.filter((s) => s.seconds !== undefined);
  if (timed.length) out.line(`        steps: ${timed.map((s) => `${s.step} ${Math.round(s.seconds ?? 0)}s`).join(', ')}`);
  out.line(`        ${r.result.goldenDir}`);
}

/** Prints each step as it starts and ends (the workflow's progress query), once per call: the waiter's tick. */
function stepPrinter(out: Output, flavor: string, query: () => Promise<GoldenBuildProgress>): () => Promise<void> {
  const printed = new Map<string, string>();
  return async () => {
    const progress = await query().catch(() => undefined);
    for (const step of progress?.steps ?? []) {
      if (printed.get(step.step) === step.status || step.status === 'pending') continue;
      printed.set(step.step, step.status);
      if (!out.json) out.warn(`[${flavor}] ${step.step}: ${step.status}${step.seconds !== undefined ? ` (${Math.round(step.seconds)} s)` : ''}`);
    }
  };
}
