#!/usr/bin/env node
import { Command } from 'commander';
import { loadCatalog } from '../../core/catalog/index.js';
import { LineageSchema } from '../../core/catalog/schema.js';
import { createLogger } from '../../lib/log.js';
import { buildGolden, planGoldenBuild, readGoldenManifest } from './build.js';

/**
 * A host-local entry to build a golden without Temporal (first build on a machine, debugging a
 * recipe): `node dist/activities/golden/cli.js build debian13 [--lineage lean] [--force]`.
 * Output is JSON on stdout; logs go to stderr.
 */
const log = createLogger('golden-cli');
const program = new Command('golden').description('build and inspect zfslab golden images on this host');

program
  .command('build')
  .argument('<flavor>')
  .option('--lineage <lineage>', 'lean or ztest', 'ztest')
  .option('--force', 'rebuild even when a golden with this recipe exists', false)
  .option('--zfs-source <pathOrUrl>', 'build OpenZFS from this source tree or git URL')
  .option('--zfs-branch <branch>', 'branch of --zfs-source')
  .option('--cache-dir <dir>', 'golden cache (default: /var/cache/zfslab/goldens as root)')
  .action(async (flavorId: string, opts: { lineage: string; force: boolean; zfsSource?: string; zfsBranch?: string; cacheDir?: string }) => {
    const flavor = loadCatalog().get(flavorId);
    const result = await buildGolden(
      {
        flavor,
        lineage: LineageSchema.parse(opts.lineage),
        force: opts.force,
        cacheDir: opts.cacheDir,
        zfsSource: opts.zfsSource ? { location: opts.zfsSource, branch: opts.zfsBranch } : undefined,
      },
      { log, onStep: (o) => log.info(o, 'step finished') },
    );
    process.stdout.write(JSON.stringify({ goldenDir: result.plan.goldenDir, outcomes: result.outcomes, manifest: { ...result.manifest, packages: Object.keys(result.manifest.packages).length } }, null, 2) + '\n');
  });

program
  .command('show')
  .argument('<flavor>')
  .option('--lineage <lineage>', 'lean or ztest', 'ztest')
  .option('--cache-dir <dir>')
  .action(async (flavorId: string, opts: { lineage: string; cacheDir?: string }) => {
    const plan = await planGoldenBuild({ flavor: loadCatalog().get(flavorId), lineage: LineageSchema.parse(opts.lineage), cacheDir: opts.cacheDir });
    process.stdout.write(JSON.stringify({ plan: { ...plan, flavor: plan.flavor.id }, manifest: readGoldenManifest(plan.goldenDir) ?? null }, null, 2) + '\n');
  });

program.parseAsync().catch((err: unknown) => {
  log.error({ err }, 'golden command failed');
  process.exitCode = 1;
});
