import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { loadCatalog } from '../../../core/catalog/index.js';
import { exitCodeOf } from '../../../core/test-run/outcome.js';
import type { LoadedConfig } from '../../../lib/config.js';
import { InfraError, rootCauseMessage, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import type { NetworkSummary } from '../../../core/network/tcp-stats.js';
import type { RecipeMatrixOutput } from '../../../workflows/recipe-run.js';
import type { CliContext } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { ExitError } from '../exit.js';
import { paint } from '../output.js';
import { commandWaitSpec, waitForWorkflow } from '../wait.js';

export const RecipeFlagsSchema = z.object({
  recipe: z.string().min(1),
  recipeTimeout: z.coerce.number().int().min(1).max(86_400).default(1800),
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .optional(),
});

/** The flavors a recipe runs on, as `zfslab test` places them on the host (`all`: those it can run, the rest named). */
export type PlaceRecipe = (hostId: string, loaded: LoadedConfig) => Promise<{ targets: string[]; skipped: { flavorId: string; reason: string }[] }>;

/**
 * `zfslab test <flavor|a,b|all> --recipe FILE`: the script as root in a fresh clone of each flavor; PASS/FAIL
 * by exit code, KILLED at its timeout, CRASH when the guest kernel died. One run of the results store
 * (`zfslab show|matrix <run>`), the recipe its `recipe/<name>` row per flavor.
 */
export async function runRecipeCommand(ctx: CliContext, target: string, raw: Record<string, unknown>, place: PlaceRecipe): Promise<void> {
  const parsed = RecipeFlagsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`test --recipe: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}`);
  const flags = parsed.data;
  const others = ['run', 'group', 'suite', 'tags', 'runfile'].filter((k) => raw[k] !== undefined);
  if (others.length) throw new UsageError(`--recipe runs a script, not a ZTS selection: drop --${others.join(', --')}`);
  if (target.split(',').includes('native')) throw new UsageError('--recipe runs in clones of flavors: give flavor ids or all, not native');
  let script: string;
  try {
    script = readFileSync(flags.recipe, 'utf8');
  } catch (err) {
    throw new UsageError(`--recipe ${flags.recipe}: ${(err as Error).message}`);
  }
  const loaded = ctx.loaded();
  const catalog = loadCatalog(loaded.config.flavors);
  const hostId = flags.host ?? resolveHostId(loaded);
  const { targets, skipped } = await place(hostId, loaded);
  const flavors = targets.map((id) => catalog.get(id));
  const name = basename(flags.recipe).replace(/[^A-Za-z0-9._-]/g, '_');
  const runId = `recipe-${name.replace(/\.[^.]*$/, '')}-${Date.now().toString(36)}`;
  const client = await connectOrExplain(loaded.config);
  let result: RecipeMatrixOutput;
  try {
    await requireHostWorker(client, loaded.config.temporal.namespace, hostId);
    const handle = await client.workflow.start('recipeMatrix', {
      taskQueue: loaded.config.temporal.taskQueue,
      workflowId: runId,
      args: [
        {
          runId,
          hostId,
          target,
          flavors,
          recipe: { name, script, timeoutSeconds: flags.recipeTimeout },
          hostWaitSeconds: loaded.config.run.hostWaitSeconds,
          skipped,
        },
      ],
    });
    if (!ctx.out.json) ctx.out.warn(`recipe ${name} on ${targets.join(', ')} (host ${hostId}): ${temporalUiUrl(loaded.config, runId)}`);
    const settled = await waitForWorkflow<RecipeMatrixOutput>(
      client,
      handle,
      commandWaitSpec(loaded.config, ctx.out, `recipe ${name} on ${targets.join(', ')}`, hostId),
    );
    if ('error' in settled) throw new InfraError(`recipe run ${runId} failed: ${rootCauseMessage(settled.error)}`);
    result = settled.value;
  } finally {
    await closeClient(client);
  }
  const unexpected = result.results.filter((r) => r.outcome !== 'PASS').length;
  if (ctx.out.json) ctx.out.data({ ...result, temporalUi: temporalUiUrl(loaded.config, runId) });
  else {
    for (const r of result.results) {
      const colour = r.outcome === 'PASS' ? 'green' : 'red';
      ctx.out.line(
        `${paint(ctx.out, colour, r.outcome)}  ${name} on ${r.flavor}  (exit ${r.exitCode ?? 'none'}, ${r.durationSeconds} s; boot ${Math.round(r.bootSeconds)} s; golden ${r.golden})`,
      );
      if (r.crash) {
        ctx.out.line(`  the guest kernel died under the recipe: ${r.crash.kind}: ${r.crash.headline} (signature ${r.crash.signature})`);
        if (r.consoleUri) ctx.out.line(`  console  ${r.consoleUri}`);
      }
      if (r.outcome !== 'PASS') for (const line of r.outputTail.trimEnd().split('\n').slice(-5)) ctx.out.line(`  | ${line}`);
      if (r.network && r.network.flows.length > 0) ctx.out.line(`  network  ${describeNetwork(r.network)}`);
      ctx.out.line(`  output   ${r.outputUri}`);
      ctx.out.line(`  result   ${r.resultUri}`);
    }
    for (const e of result.errors) ctx.out.warn(`infrastructure: ${name} on ${e.flavor}: ${e.error}`);
    for (const s of result.skipped) ctx.out.line(`skipped ${s.flavorId}: ${s.reason}`);
    ctx.out.line(`run ${runId}: ${result.outcome} (zfslab show ${runId}, zfslab matrix ${runId} [--junit FILE])`);
  }
  const code = exitCodeOf(result.outcome, unexpected);
  if (code !== 0) throw new ExitError(code);
}

/** The busiest flow of a recipe's network timeline, in one line. */
function describeNetwork(n: NetworkSummary): string {
  const top = n.flows[0]!;
  const where = top.netns ? ` in ${top.netns}` : '';
  const moved = (top.bytesAcked + top.bytesReceived) / 1e6;
  const rtt = top.rttMsP50 !== undefined ? `, RTT p50 ${top.rttMsP50} ms` : '';
  return (
    `${n.flows.length} TCP flow(s); busiest ${top.local} → ${top.peer}${where}: ${moved.toFixed(1)} MB at ${(top.throughputBps / 1e6).toFixed(1)} Mbit/s, ` +
    `${top.retransSegments} retransmitted segment(s)${rtt}; qdisc drops ${n.qdiscDrops}`
  );
}
