import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { loadCatalog } from '../../../core/catalog/index.js';
import { InfraError, rootCauseMessage, UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { closeClient, temporalUiUrl } from '../../../lib/temporal.js';
import type { RecipeRunOutput } from '../../../workflows/recipe-run.js';
import type { CliContext } from '../context.js';
import { connectOrExplain, requireHostWorker } from '../temporal.js';
import { EXIT, ExitError } from '../exit.js';
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

/** `zfslab test <flavor> --recipe FILE`: the script as root in a fresh clone; PASS/FAIL by exit code, KILLED at its timeout, CRASH when the guest kernel died. */
export async function runRecipeCommand(ctx: CliContext, target: string, raw: Record<string, unknown>): Promise<void> {
  const parsed = RecipeFlagsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`test --recipe: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}`);
  const flags = parsed.data;
  const others = ['run', 'group', 'suite', 'tags', 'runfile'].filter((k) => raw[k] !== undefined);
  if (others.length) throw new UsageError(`--recipe runs a script, not a ZTS selection: drop --${others.join(', --')}`);
  if (target === 'native' || target === 'all') throw new UsageError('--recipe runs in a clone of one flavor: give a flavor id');
  let script: string;
  try {
    script = readFileSync(flags.recipe, 'utf8');
  } catch (err) {
    throw new UsageError(`--recipe ${flags.recipe}: ${(err as Error).message}`);
  }
  const loaded = ctx.loaded();
  const flavor = loadCatalog(loaded.config.flavors).get(target);
  const hostId = flags.host ?? resolveHostId(loaded);
  const name = basename(flags.recipe).replace(/[^A-Za-z0-9._-]/g, '_');
  const runId = `recipe-${name.replace(/\.[^.]*$/, '')}-${Date.now().toString(36)}`;
  const client = await connectOrExplain(loaded.config);
  let result: RecipeRunOutput;
  try {
    await requireHostWorker(client, loaded.config.temporal.namespace, hostId);
    const handle = await client.workflow.start('recipeRun', {
      taskQueue: loaded.config.temporal.taskQueue,
      workflowId: runId,
      args: [{ runId, hostId, flavor, recipe: { name, script, timeoutSeconds: flags.recipeTimeout }, hostWaitSeconds: loaded.config.run.hostWaitSeconds }],
    });
    if (!ctx.out.json) ctx.out.warn(`recipe ${name} on ${flavor.id} (host ${hostId}): ${temporalUiUrl(loaded.config, runId)}`);
    const settled = await waitForWorkflow<RecipeRunOutput>(client, handle, commandWaitSpec(loaded.config, ctx.out, `recipe ${name} on ${flavor.id}`, hostId));
    if ('error' in settled) throw new InfraError(`recipe run ${runId} failed: ${rootCauseMessage(settled.error)}`);
    result = settled.value;
  } finally {
    await closeClient(client);
  }
  if (ctx.out.json) ctx.out.data({ ...result, temporalUi: temporalUiUrl(loaded.config, runId) });
  else {
    const colour = result.outcome === 'PASS' ? 'green' : 'red';
    ctx.out.line(
      `${paint(ctx.out, colour, result.outcome)}  ${name} on ${flavor.id}  (exit ${result.exitCode ?? 'none'}, ${result.durationSeconds} s; boot ${Math.round(result.bootSeconds)} s)`,
    );
    if (result.crash) {
      ctx.out.line(`the guest kernel died under the recipe: ${result.crash.kind}: ${result.crash.headline} (signature ${result.crash.signature})`);
      if (result.consoleUri) ctx.out.line(`console  ${result.consoleUri}`);
    }
    ctx.out.line(`output   ${result.outputUri}`);
    ctx.out.line(`result   ${result.resultUri}`);
  }
  if (result.outcome !== 'PASS') throw new ExitError(EXIT.failed);
}
