import { Command } from 'commander';
import { z } from 'zod';
import { buildGolden, planGoldenBuild, readGoldenManifest } from '../../../activities/golden/build.js';
import { loadCatalog, LineageSchema } from '../../../core/catalog/index.js';
import { UsageError } from '../../../lib/errors.js';
import { contextFrom } from '../context.js';
import { paint } from '../output.js';

/**
 * `zfslab golden build|show`: a golden built on this host in this process, without Temporal — a
 * machine's first build, or debugging a recipe step by step. The flavor comes from the config's
 * catalog (shipped flavors plus the config's `flavors:`), like every other command. The durable
 * build, resumed by a worker after a crash, is `zfslab golden-ztest`.
 */
const LocalGoldenFlags = z.object({
  lineage: LineageSchema.default('ztest'),
  force: z.boolean().default(false),
  zfsSource: z.string().min(1).optional(),
  zfsBranch: z.string().min(1).optional(),
  cacheDir: z.string().min(1).optional(),
});

function parseFlags(command: string, raw: unknown): z.infer<typeof LocalGoldenFlags> {
  const parsed = LocalGoldenFlags.safeParse(raw);
  if (!parsed.success) throw new UsageError(`golden ${command}: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.zfsBranch && !parsed.data.zfsSource) throw new UsageError(`golden ${command}: --zfs-branch goes with --zfs-source`);
  return parsed.data;
}

const CACHE_DIR_HELP = 'golden cache (default: $ZFSLAB_GOLDEN_CACHE, else /var/cache/zfslab/goldens as root, ~/.cache/zfslab/goldens otherwise)';

export function goldenBuildCommand(): Command {
  return new Command('build')
    .description('build (or reuse, by recipe hash) a golden on this host, in this process, without Temporal')
    .argument('<flavor>', 'a flavor id of the catalog (shipped or from the config)')
    .option('--lineage <lineage>', 'ztest (ZTS payload) or lean', 'ztest')
    .option('--force', 'rebuild even when a golden with this recipe exists')
    .option('--zfs-source <pathOrUrl>', 'build OpenZFS from this source tree or git URL instead of the package')
    .option('--zfs-branch <branch>', 'branch of --zfs-source')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (flavorId: string, rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = parseFlags('build', rawFlags);
      const flavor = loadCatalog(ctx.loaded().config.flavors).get(flavorId);
      const log = ctx.log();
      const result = await buildGolden(
        {
          flavor,
          lineage: flags.lineage,
          force: flags.force,
          cacheDir: flags.cacheDir,
          aptCheckValidUntil: ctx.loaded().config.host.aptCheckValidUntil,
          zfsSource: flags.zfsSource ? { location: flags.zfsSource, branch: flags.zfsBranch } : undefined,
        },
        {
          log,
          onStep: (outcome) => {
            if (!ctx.out.json) ctx.out.warn(`[${flavor.id}] ${outcome.step}: ${outcome.skipped ? 'done before' : `done (${Math.round(outcome.seconds)} s)`}`);
          },
        },
      );
      const m = result.manifest;
      if (ctx.out.json) {
        return ctx.out.data({
          goldenDir: result.plan.goldenDir,
          cached: result.plan.cached,
          outcomes: result.outcomes,
          manifest: { ...m, packages: Object.keys(m.packages).length },
        });
      }
      ctx.out.line(`${paint(ctx.out, 'green', result.plan.cached ? 'cached' : 'built')}  ${flavor.id}: ${m.name}`);
      ctx.out.line(`        kernel ${m.kernelRelease}; ${m.zfsVersion.userland} / ${m.zfsVersion.kmod}; ${Object.keys(m.packages).length} packages`);
      ctx.out.line(`        ${result.plan.goldenDir}`);
    });
}

export function goldenShowCommand(): Command {
  return new Command('show')
    .description("a flavor's golden on this host: the build plan (recipe hash, steps, whether it is cached) and its manifest")
    .argument('<flavor>', 'a flavor id of the catalog (shipped or from the config)')
    .option('--lineage <lineage>', 'ztest (ZTS payload) or lean', 'ztest')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (flavorId: string, rawFlags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = parseFlags('show', rawFlags);
      const flavor = loadCatalog(ctx.loaded().config.flavors).get(flavorId);
      const plan = await planGoldenBuild({ flavor, lineage: flags.lineage, cacheDir: flags.cacheDir }, ctx.log());
      const manifest = readGoldenManifest(plan.goldenDir) ?? null;
      if (ctx.out.json) return ctx.out.data({ plan: { ...plan, flavor: plan.flavor.id }, manifest });
      ctx.out.line(`${flavor.id} (${flags.lineage}): ${plan.name}, recipe ${plan.recipeHash}`);
      ctx.out.line(`        ${plan.goldenDir}: ${plan.cached ? 'built' : 'not built'}`);
      ctx.out.line(`        steps: ${plan.steps.join(', ')}`);
      if (manifest)
        ctx.out.line(`        kernel ${manifest.kernelRelease}; ${manifest.zfsVersion.userland} / ${manifest.zfsVersion.kmod}; built ${manifest.builtAt}`);
    });
}
