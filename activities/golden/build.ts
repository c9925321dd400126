import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FlavorSchema, LineageSchema, type Flavor } from '../../core/catalog/schema.js';
import {
  DebootstrapStepSchema,
  GoldenManifestSchema,
  GoldenStepSchema,
  type GoldenManifest,
  type GoldenStep,
  type StepTiming,
} from '../../core/vm/manifest.js';
import { GOLDEN_BUILDER_VERSION, ZfsSourceSchema, goldenName, goldenRecipeHash } from '../../core/vm/recipe.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { removeTree } from './chroot.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { stepConfigure, stepDebootstrap, stepImage, stepInitramfs, stepKernel, stepPayload, stepZfs } from './debootstrap-steps.js';
import { stepCloudVerify, stepFetchImage, stepProvision, stepSeed } from './cloud-image-steps.js';
import { resolveZfsSource } from './zfs-source.js';
import { defaultGoldenCacheDir, goldenPaths, hostDebianMirror } from './paths.js';
import type { StepContext, StepData } from './step-context.js';
import { stepVerify } from './verify.js';

/** A planned golden build: serialisable, passed from the plan activity to each step activity. */
export const GoldenPlanSchema = z.object({
  name: z.string(),
  flavor: FlavorSchema,
  lineage: LineageSchema,
  recipeHash: z.string(),
  zfsSource: ZfsSourceSchema.optional(),
  cacheDir: z.string(),
  goldenDir: z.string(),
  /** The host's `host.aptCheckValidUntil`: not part of the recipe (the same packages either way). */
  aptCheckValidUntil: z.boolean().default(true),
  steps: z.array(GoldenStepSchema),
  /** A golden with this recipe exists and --force was not given: nothing to build. */
  cached: z.boolean(),
  force: z.boolean(),
});
export type GoldenPlan = z.infer<typeof GoldenPlanSchema>;

export const GoldenBuildRequestSchema = z.strictObject({
  flavor: FlavorSchema,
  lineage: LineageSchema.default('ztest'),
  force: z.boolean().default(false),
  zfsSource: ZfsSourceSchema.optional(),
  cacheDir: z.string().optional(),
  aptCheckValidUntil: z.boolean().default(true),
});
export type GoldenBuildRequest = z.input<typeof GoldenBuildRequestSchema>;

export interface StepHooks {
  /** Each output line of the step's commands (activities heartbeat on it). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  log?: Logger;
}

export interface StepOutcome extends StepTiming {
  /** The step's checkpoint already existed (a retried or repeated build). */
  skipped: boolean;
}

function stepsFor(flavor: Flavor): GoldenStep[] {
  if (flavor.builder.kind === 'debootstrap') return [...DebootstrapStepSchema.options];
  return ['fetch-image', 'seed', 'provision', 'verify', 'publish'];
}

/** A published golden's manifest, or undefined when there is none (or it is not whole). */
export function readGoldenManifest(goldenDir: string): GoldenManifest | undefined {
  const file = join(goldenDir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const parsed = GoldenManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Decides what to build. The same recipe reuses the cached golden; --force starts a fresh build
 * (old checkpoints dropped) that replaces the golden when it publishes.
 */
export async function planGoldenBuild(request: GoldenBuildRequest, log: Logger = createLogger('golden')): Promise<GoldenPlan> {
  const parsed = GoldenBuildRequestSchema.parse(request);
  // A source tree is pinned to its commit before hashing: a new commit is a new recipe.
  const req = parsed.zfsSource ? { ...parsed, zfsSource: await resolveZfsSource(parsed.zfsSource) } : parsed;
  const recipeHash = goldenRecipeHash({ flavor: req.flavor, lineage: req.lineage, zfsSource: req.zfsSource });
  const name = goldenName(req.flavor.id, req.lineage, recipeHash);
  const cacheDir = req.cacheDir ?? defaultGoldenCacheDir();
  const paths = goldenPaths(cacheDir, name);
  const cached = !req.force && readGoldenManifest(paths.dir)?.recipeHash === recipeHash;
  if (req.force && existsSync(paths.buildDir)) {
    log.info({ buildDir: paths.buildDir }, '--force: dropping the unfinished build');
    await removeTree(paths.buildDir, log);
  }
  return GoldenPlanSchema.parse({
    name,
    flavor: req.flavor,
    lineage: req.lineage,
    recipeHash,
    zfsSource: req.zfsSource,
    cacheDir,
    goldenDir: paths.dir,
    steps: stepsFor(req.flavor),
    cached,
    force: req.force,
    aptCheckValidUntil: req.aptCheckValidUntil,
  });
}

type StepFn = (ctx: StepContext) => Promise<StepData>;

const CLOUD_IMAGE_STEPS: Partial<Record<GoldenStep, StepFn>> = {
  'fetch-image': stepFetchImage,
  seed: stepSeed,
  provision: stepProvision,
  verify: stepCloudVerify,
  publish: stepPublish,
};

const DEBOOTSTRAP_STEPS: Partial<Record<GoldenStep, StepFn>> = {
  debootstrap: stepDebootstrap,
  kernel: stepKernel,
  zfs: stepZfs,
  payload: stepPayload,
  configure: stepConfigure,
  initramfs: stepInitramfs,
  image: stepImage,
  verify: stepVerify,
  publish: stepPublish,
};

/**
 * Runs one step of a planned build, unless its checkpoint says it is done. Safe to call again
 * after a crash: the step restarts from its beginning and the earlier steps are not redone.
 */
export async function runGoldenStep(planInput: GoldenPlan, step: GoldenStep, hooks: StepHooks = {}): Promise<StepOutcome> {
  const plan = GoldenPlanSchema.parse(planInput);
  const log = (hooks.log ?? createLogger('golden')).child({ golden: plan.name, step });
  const paths = goldenPaths(plan.cacheDir, plan.name);
  if (step !== 'publish' || !existsSync(paths.dir)) mkdirSync(paths.outDir, { recursive: true });
  const done = existsSync(paths.stepsDir) ? readCheckpoint(paths.stepsDir, step) : undefined;
  if (done) return { step, seconds: done.seconds, finishedAt: done.finishedAt, skipped: true };
  if (step === 'publish' && !existsSync(paths.buildDir) && readGoldenManifest(paths.dir)?.recipeHash === plan.recipeHash) {
    // published by an earlier attempt that died before returning
    return { step, seconds: 0, finishedAt: new Date().toISOString(), skipped: true };
  }
  const fn = (plan.flavor.builder.kind === 'debootstrap' ? DEBOOTSTRAP_STEPS : CLOUD_IMAGE_STEPS)[step];
  if (!fn) throw new Error(`builder ${plan.flavor.builder.kind} has no step ${step} yet`);
  const appendLog = (line: string): void => appendFileSync(paths.buildLog, line + '\n');
  appendLog(`==> [${new Date().toISOString()}] step ${step} starts`);
  const ctx: StepContext = {
    flavor: plan.flavor,
    lineage: plan.lineage,
    recipeHash: plan.recipeHash,
    name: plan.name,
    zfsSource: plan.zfsSource,
    aptCheckValidUntil: plan.aptCheckValidUntil,
    paths,
    mirror: plan.flavor.builder.kind === 'debootstrap' ? (plan.flavor.builder.mirror ?? hostDebianMirror()) : '',
    log,
    runOptions: {
      signal: hooks.signal,
      onLine: (line) => {
        appendLog(line);
        hooks.onLine?.(line);
      },
    },
  };
  const started = performance.now();
  log.info('step starts');
  const data = await fn(ctx);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const finishedAt = new Date().toISOString();
  if (step !== 'publish') {
    appendLog(`==> [${finishedAt}] step ${step} done in ${seconds} s`);
    writeCheckpoint(paths.stepsDir, { step, seconds, finishedAt, data });
  }
  log.info({ seconds }, 'step done');
  return { step, seconds, finishedAt, skipped: false };
}

/** All steps in-process (the CLI entry and tests); the Temporal workflow calls runGoldenStep per step. */
export async function buildGolden(
  request: GoldenBuildRequest,
  hooks: StepHooks & { onStep?: (outcome: StepOutcome) => void } = {},
): Promise<{ plan: GoldenPlan; manifest: GoldenManifest; outcomes: StepOutcome[] }> {
  const plan = await planGoldenBuild(request, hooks.log);
  const outcomes: StepOutcome[] = [];
  if (!plan.cached) {
    for (const step of plan.steps) {
      const outcome = await runGoldenStep(plan, step, hooks);
      outcomes.push(outcome);
      hooks.onStep?.(outcome);
    }
  }
  const manifest = readGoldenManifest(plan.goldenDir);
  if (!manifest) throw new Error(`golden ${plan.name} has no valid manifest after its build`);
  return { plan, manifest, outcomes };
}

/** Writes the manifest, moves the build's output into place and makes it read-only (goldens are immutable). */
async function stepPublish(ctx: StepContext): Promise<StepData> {
  const { paths } = ctx;
  const cp = (step: GoldenStep): Record<string, unknown> => {
    const c = readCheckpoint(paths.stepsDir, step);
    if (!c) throw new Error(`cannot publish: step ${step} has no checkpoint`);
    return c.data;
  };
  const verify = cp('verify');
  const steps: StepTiming[] = [];
  for (const step of stepsFor(ctx.flavor).filter((s) => s !== 'publish')) {
    const c = readCheckpoint(paths.stepsDir, step);
    if (c) steps.push({ step, seconds: c.seconds, finishedAt: c.finishedAt });
  }
  const manifest: GoldenManifest = GoldenManifestSchema.parse({
    name: ctx.name,
    flavorId: ctx.flavor.id,
    lineage: ctx.lineage,
    recipeHash: ctx.recipeHash,
    builderVersion: GOLDEN_BUILDER_VERSION,
    builder: ctx.flavor.builder.kind,
    builtAt: new Date().toISOString(),
    buildHost: hostname(),
    zfsSource: ctx.zfsSource,
    kernelRelease: verify.kernelRelease,
    zfsVersion: verify.zfsVersion,
    packages: verify.packages,
    boot: verify.boot,
    ssh: verify.ssh,
    steps,
    buildLog: 'build.log',
    ...(verify.suite ? { suite: verify.suite } : {}),
  });
  writeFileSync(join(paths.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (existsSync(paths.dir)) {
    // --force: running clones keep their open backing file; new clones use the new golden
    const retired = join(ctx.paths.dir, '..', `.retired-${ctx.name}-${Date.now()}`);
    renameSync(paths.dir, retired);
    ctx.log.info({ retired }, 'replaced golden moved aside');
  }
  renameSync(paths.outDir, paths.dir);
  makeReadOnly(paths.dir);
  await removeTree(paths.buildDir, ctx.log);
  return { goldenDir: paths.dir };
}

function makeReadOnly(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = statSync(path);
    if (st.isDirectory()) makeReadOnly(path);
    else chmodSync(path, st.mode & 0o444);
  }
}
