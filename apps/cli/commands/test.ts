import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import { loadRunView } from '../../../activities/test-runs/run-view.js';
import { loadCatalog, type Catalog } from '../../../core/catalog/index.js';
import { runnableTargets, standbyHostsFor, type HostEntry } from '../../../core/host/registry.js';
import { NATIVE_TARGET } from '../../../core/test-run/input.js';
import { SEARCH_ATTRIBUTES } from '../../../core/search-attributes.js';
import { newRunId, runWorkflowId, targetWorkflowId } from '../../../core/test-run/ids.js';
import { MatrixRunInputSchema, suiteOf } from '../../../core/test-run/input.js';
import type { MatrixRunInput } from '../../../core/test-run/input.js';
import { exitCodeOf } from '../../../core/test-run/outcome.js';
import type { RunOutcome } from '../../../core/test-run/outcome.js';
import type { MatrixRunResult } from '../../../core/test-run/types.js';
import { storeUrlOf, type LoadedConfig } from '../../../lib/config.js';
import { InfraError, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { describePollers } from '../../../lib/task-queues.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import { contextFrom, type CliContext } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { EXIT, ExitError } from '../exit.js';
import { runRecipeCommand } from './recipe-run.js';
import { addRunOptions, parseTestFlags, runTemplateFrom, targetsFrom, type TestFlags } from './test-run/flags.js';
import { followRun } from './test-run/follow.js';
import { planJson, printPlan } from './test-run/plan-view.js';
import { printRunResult, runResultJson } from './test-run/result-view.js';
import { writeRunHtmlReport } from './report.js';

export function testCommand(): Command {
  return addRunOptions(
    new Command('test')
      .description('run the ZTS (or your own runfile) on native or on flavors, durable and resumable; print the matrix')
      .argument('<target>', 'native (this host), a flavor id, flavors comma-separated (one matrix), or all'),
  )
    .option('--timeout <seconds>', 'give up waiting after this many seconds (the run goes on)')
    .option('--dry-run', 'resolve the selection and print the shards and estimated makespan; run nothing')
    .option('--no-wait', 'start the run and print its id; do not follow it')
    .option('--all', 'show every row of the matrix (default: rows where something did not pass)')
    .option('--junit <file>', 'write JUnit XML here')
    .option('--markdown <file>', 'write a Markdown summary here')
    .option('--html <file>', 'write the self-contained HTML report here once the run ended (zfslab report)')
    .option(
      '--fingerprint [workload]',
      "capture a fingerprint of each chunk's runner and compare it with the flavor's baseline (default name: zts-<selection>)",
    )
    .option('--recipe <file>', 'instead of ZTS: run this script as root in a fresh clone of the flavor (PASS/FAIL by exit code)')
    .option('--recipe-timeout <seconds>', 'with --recipe: KILLED after this long', '1800')
    .action(async (target: string, rawFlags: Record<string, unknown>, command: Command) => {
      const ctx = contextFrom(command);
      const { recipe, recipeTimeout, ...ztsFlags } = rawFlags;
      if (recipe !== undefined) {
        return runRecipeCommand(ctx, target, { ...ztsFlags, recipe, recipeTimeout }, async (hostId, loaded) => {
          const catalog = loadCatalog(loaded.config.flavors);
          return placeOnHost(ctx, loaded, catalog, target, targetsFrom(target, catalog), hostId, []);
        });
      }
      const flags = parseTestFlags(ztsFlags);
      const loaded = ctx.loaded();
      const hostId = flags.host ?? resolveHostId(loaded);
      const catalog = loadCatalog(loaded.config.flavors);
      const { targets, skipped, standby, vmSlots } = await placeOnHost(ctx, loaded, catalog, target, targetsFrom(target, catalog), hostId, flags.require ?? []);
      const input = MatrixRunInputSchema.parse({
        runId: newRunId(new Date(), Math.random),
        reruns: loaded.config.run.reruns,
        ...runTemplateFrom(flags, targets, hostId, standby, vmSlots),
        skipped,
        hostWaitSeconds: loaded.config.run.hostWaitSeconds,
        dryRun: flags.dryRun,
      } satisfies MatrixRunInput);
      const client = await connectOrExplain(loaded.config);
      try {
        await requirePollers(client, loaded, hostId);
        await runTest(ctx, client, loaded, flags, input);
      } finally {
        await closeClient(client);
      }
    });
}

/**
 * What the host's registry entry says it can run. `all` keeps the flavors it can run and names the
 * others (no golden and no means to build one, a `--require`d capability missing); named flavors it
 * cannot run are bad input, said before anything starts.
 */
async function placeOnHost(
  ctx: CliContext,
  loaded: LoadedConfig,
  catalog: Catalog,
  target: string,
  targets: string[],
  hostId: string,
  require: string[],
): Promise<{ targets: string[]; skipped: { flavorId: string; reason: string }[]; standby: string[]; vmSlots: Record<string, number> }> {
  const flavorTargets = targets.filter((t) => t !== NATIVE_TARGET);
  const store = await openStore(storeUrlOf(loaded), { logger: ctx.log() });
  let fleet: HostEntry[];
  try {
    fleet = await new HostRegistry(store.db).list();
  } finally {
    await store.close();
  }
  const entry = fleet.find((e) => e.hostId === hostId);
  // What dynamic dispatch opens per host: the VM slots each worker declared.
  const vmSlots = Object.fromEntries(fleet.filter((e) => (e.facts?.vmSlots ?? 0) > 0).map((e) => [e.hostId, e.facts!.vmSlots]));
  // Where the run's chunks go if its host is lost: the other good hosts that can run every target.
  const standbyOf = (runnable: string[]) =>
    standbyHostsFor(
      runnable.filter((t) => t !== NATIVE_TARGET).map((id) => catalog.get(id)),
      fleet,
      hostId,
      { require },
    );
  if (flavorTargets.length === 0) return { targets, skipped: [], standby: standbyOf(targets), vmSlots };
  if (!entry?.facts) {
    if (require.length > 0)
      throw new UsageError(`--require ${require.join(',')}: host ${hostId} was never probed, so nothing is proven (\`zfslab host probe --host ${hostId}\`)`);
    if (target === 'all')
      process.stderr.write(`host ${hostId} was never probed: running every flavor (\`zfslab host probe\` lets \`all\` skip those it cannot run)\n`);
    return { targets, skipped: [], standby: standbyOf(targets), vmSlots };
  }
  const placed = runnableTargets(
    flavorTargets.map((id) => catalog.get(id)),
    entry,
    { require },
  );
  if (target !== 'all') {
    if (placed.skipped.length > 0) throw new UsageError(`cannot run here: ${placed.skipped.map((s) => `${s.flavorId} (${s.reason})`).join('; ')}`);
    return { targets, skipped: [], standby: standbyOf(targets), vmSlots };
  }
  if (placed.targets.length === 0)
    throw new UsageError(`all: host ${hostId} can run no flavor of the catalog: ${placed.skipped.map((s) => `${s.flavorId} (${s.reason})`).join('; ')}`);
  return { targets: placed.targets, skipped: placed.skipped, standby: standbyOf(placed.targets), vmSlots };
}

async function requirePollers(client: Client, loaded: LoadedConfig, hostId: string): Promise<void> {
  const { namespace, taskQueue } = loaded.config.temporal;
  const coordinator = await describePollers(client, namespace, taskQueue);
  if (coordinator.workflowPollers.length === 0) throw new InfraError(`no coordinator worker polls ${taskQueue}: start the stack (\`zfslab up\`)`);
  await requireHostWorker(client, namespace, hostId);
}

async function runTest(
  ctx: CliContext,
  client: Client,
  loaded: LoadedConfig,
  flags: TestFlags,
  input: ReturnType<typeof MatrixRunInputSchema.parse>,
): Promise<void> {
  const workflowId = flags.dryRun ? `zts-plan-${input.runId}` : runWorkflowId(input.runId);
  const handle = await client.workflow.start('matrixRun', {
    taskQueue: loaded.config.temporal.taskQueue,
    workflowId,
    args: [input],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.kind, value: flags.dryRun ? 'zts-plan' : 'zts-run' },
      { key: SEARCH_ATTRIBUTES.suite, value: suiteOf(input.request) },
      { key: SEARCH_ATTRIBUTES.host, value: input.hostId },
      { key: SEARCH_ATTRIBUTES.flavor, value: input.targets.length === 1 ? input.targets[0]! : 'matrix' },
    ],
  });
  const ui = temporalUiUrl(loaded.config, workflowId);
  if (!flags.wait && !flags.dryRun) {
    if (ctx.out.json) return ctx.out.data({ runId: input.runId, workflowId, temporalUi: ui });
    ctx.out.line(`started run ${input.runId}`);
    ctx.out.line(`workflow  ${ui}`);
    return;
  }
  if (!ctx.out.json) process.stderr.write(`run ${input.runId}: ${ui}\n`);
  const followed = await followRun<MatrixRunResult>(
    client,
    handle,
    input.targets.map((t) => ({ target: t, workflowId: targetWorkflowId(input.runId, t) })),
    {
      stream: process.stderr,
      quiet: ctx.out.json || flags.dryRun,
      wait: {
        what: `${flags.dryRun ? 'plan' : 'run'} ${input.runId}`,
        hostId: input.hostId,
        namespace: loaded.config.temporal.namespace,
        coordinatorQueue: loaded.config.temporal.taskQueue,
        hostWaitSeconds: input.hostWaitSeconds,
        timeoutSeconds: flags.timeout,
      },
    },
  );
  if (flags.dryRun) {
    if ('error' in followed) throw new InfraError(`planning failed: ${(followed.error as Error).message}`);
    const plan = planJson(followed.value, workflowId);
    if (ctx.out.json) ctx.out.data({ ...plan, skipped: input.skipped });
    else {
      printPlan(ctx.out, plan, { all: flags.all });
      printSkipped(ctx.out, input.skipped);
    }
    const usage = followed.value.targets.find((t) => t.error?.startsWith('usage: '));
    if (usage) throw new UsageError(usage.error!.slice('usage: '.length));
    if (followed.value.targets.some((t) => !t.plan)) throw new ExitError(EXIT.infra);
    return;
  }
  const outcome: RunOutcome = 'error' in followed ? (wasCancelled(followed.error) ? 'cancelled' : 'infra-error') : followed.value.outcome;
  if ('error' in followed && !ctx.out.json) process.stderr.write(`run ${input.runId}: ${(followed.error as Error).message}\n`);
  const result = 'error' in followed ? undefined : followed.value;
  const usage = result?.targets.find((t) => t.error?.startsWith('usage: '));
  if (usage && result?.targets.every((t) => t.error)) throw new UsageError(usage.error!.slice('usage: '.length));

  const store = await openStore(storeUrlOf(loaded), { logger: ctx.log() });
  try {
    const view = await loadRunView(store, input.runId);
    // Beside JUnit, what CI attaches: the report, written from the store once the run ended.
    if (flags.html && view) await writeRunHtmlReport(store, loaded.config, view, flags.html);
    const json = runResultJson({
      config: loaded.config,
      runId: input.runId,
      workflowId,
      outcome,
      result,
      view,
      files: { junit: flags.junit, markdown: flags.markdown },
    });
    if (flags.html && view) json.files.push(flags.html);
    if (ctx.out.json) ctx.out.data({ ...json, skipped: input.skipped });
    else {
      printRunResult(ctx.out, json, view, { all: flags.all });
      printSkipped(ctx.out, input.skipped);
    }
    const code = exitCodeOf(outcome, json.totals.unexpected);
    if (code !== EXIT.ok) throw new ExitError(code);
  } finally {
    await store.close();
  }
}

/** The flavors `all` left out, after the matrix: each with why no host could run it. */
function printSkipped(out: CliContext['out'], skipped: readonly { flavorId: string; reason: string }[]): void {
  if (skipped.length === 0) return;
  out.line();
  out.line(`skipped ${skipped.length} flavor${skipped.length === 1 ? '' : 's'} no host can run:`);
  for (const s of skipped) out.line(`  ${s.flavorId}: ${s.reason}`);
}

function wasCancelled(err: unknown): boolean {
  let e: unknown = err;
  while (e instanceof Error) {
    if (e instanceof CancelledFailure) return true;
    e = e.cause;
  }
  return false;
}
