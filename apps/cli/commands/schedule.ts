import { Command } from 'commander';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { z } from 'zod';
import { loadCatalog } from '../../../core/catalog/index.js';
import {
  BackfillRangeSchema,
  OVERLAP_POLICIES,
  OverlapSchema,
  ScheduleIdSchema,
  ScheduleTimingSchema,
  ScheduledRunInputSchema,
  describeTiming,
  overlapPolicyName,
  scheduledWorkflowId,
  type Overlap,
  type ScheduleTiming,
  type ScheduledRunInput,
  type ScheduledRunSpec,
} from '../../../core/schedule/definition.js';
import { SEARCH_ATTRIBUTES } from '../../../core/search-attributes.js';
import { describeRequest } from '../../../core/test-run/input.js';
import type { LoadedConfig } from '../../../lib/config.js';
import { UsageError } from '../../../lib/errors.js';
import { resolveHostId } from '../../../lib/host-id.js';
import { closeClient, temporalScheduleUrl } from '../../../lib/temporal.js';
import { contextFrom, type CliContext } from '../context.js';
import { table } from '../output.js';
import { connectOrExplain } from '../temporal.js';
import { addRunOptions, parseTestFlags, runTemplateFrom, targetsFrom } from './test-run/flags.js';

/** The workflow a zfslab schedule starts; schedules of other workflow types in the namespace are not ours. */
const SCHEDULED_WORKFLOW = 'scheduledTestRun';

/**
 * `zfslab schedule …`: recurring `zfslab test` runs on Temporal Schedules (nightly quick suite,
 * weekly linux suite, soaks). The server keeps the schedule and starts each firing; the history of
 * every firing is an ordinary run in `zfslab runs` and the Temporal UI (`ZfslabSchedule = "<id>"`).
 */
export function scheduleCommand(): Command {
  const schedule = new Command('schedule').description(
    'recurring test runs on Temporal Schedules: create, list, describe, pause, unpause, trigger, delete, backfill',
  );

  schedule.addCommand(
    addRunOptions(
      new Command('create')
        .description('create a schedule that runs `zfslab test <target> …` on a cadence')
        .argument('<id>', 'schedule id (a-z 0-9 -)')
        .argument('<target>', 'what `zfslab test` takes: native, a flavor, flavors comma-separated, or all'),
    )
      .option('--every <duration>', 'run every interval: 30m, 24h, 7d, 1w')
      .option('--cron <expr>', 'run on a cron expression (UTC), e.g. "0 2 * * *"')
      .option('--overlap <policy>', `when a firing finds the previous run still going: ${OVERLAP_POLICIES.join(', ')}`, 'skip')
      .option('--catchup-window <duration>', 'a firing missed (server down, paused) may still start this late', '1h')
      .option('--jitter <duration>', 'start each firing up to this much later, at random')
      .option('--pause-on-failure', 'pause the schedule when a run does not pass')
      .option('--paused', 'create it paused')
      .option('--note <text>', 'why this schedule exists (shown in list and describe)')
      .action(async (id: string, target: string, raw: Record<string, unknown>, command: Command) => {
        const ctx = contextFrom(command);
        const scheduleId = parseId(id);
        const { every, cron, overlap, catchupWindow, jitter, pauseOnFailure, paused, note, ...testFlags } = raw;
        const timing = parseWith(
          ScheduleTimingSchema,
          { every, cron, overlap, catchupWindow, jitter, pauseOnFailure: Boolean(pauseOnFailure), paused: Boolean(paused), note },
          'schedule create',
        );
        const flags = parseTestFlags(testFlags);
        const loaded = ctx.loaded();
        const targets = targetsFrom(target, loadCatalog(loaded.config.flavors));
        const input = ScheduledRunInputSchema.parse({
          scheduleId,
          run: {
            reruns: loaded.config.run.reruns,
            ...runTemplateFrom(flags, targets, flags.host ?? resolveHostId(loaded)),
            hostWaitSeconds: loaded.config.run.hostWaitSeconds,
          },
        } satisfies ScheduledRunInput);
        await withClient(loaded, async (client) => {
          await createSchedule(client, loaded, scheduleId, timing, input).catch((err: unknown) => {
            if (err instanceof ScheduleAlreadyRunning)
              throw new UsageError(`schedule ${scheduleId} exists already: \`zfslab schedule delete ${scheduleId}\` first, or pick another id`);
            throw err;
          });
          const description = await client.schedule.getHandle(scheduleId).describe();
          const view = scheduleView(description);
          if (ctx.out.json) return ctx.out.data(view);
          ctx.out.line(`created schedule ${scheduleId}: ${view.timing}, ${view.what}${view.paused ? ' (paused)' : ''}`);
          if (view.nextRuns[0]) ctx.out.line(`next run  ${view.nextRuns[0]}`);
          ctx.out.line(`history   ${temporalScheduleUrl(loaded.config, scheduleId)}`);
        });
      }),
  );

  schedule.addCommand(
    new Command('list')
      .description('zfslab schedules: cadence, what they run, paused or not, next and last firing')
      .action(async (_raw: unknown, command: Command) => {
        const ctx = contextFrom(command);
        await withClient(ctx.loaded(), async (client) => {
          const views: ScheduleView[] = [];
          for await (const summary of client.schedule.list()) {
            if (summary.action?.type !== 'startWorkflow' || summary.action.workflowType !== SCHEDULED_WORKFLOW) continue;
            views.push(scheduleView(await client.schedule.getHandle(summary.scheduleId).describe()));
          }
          views.sort((a, b) => a.id.localeCompare(b.id));
          if (ctx.out.json) return ctx.out.data(views);
          if (views.length === 0) return ctx.out.line('no schedules (create one: zfslab schedule create nightly all --suite quick --cron "0 2 * * *")');
          ctx.out.line(
            table(
              views.map((v) => [v.id, v.timing, v.what, v.paused ? 'paused' : 'active', v.nextRuns[0] ?? '-', v.recent.at(-1)?.takenAt ?? '-']),
              ['schedule', 'when', 'runs', 'state', 'next', 'last'],
            ),
          );
        });
      }),
  );

  schedule.addCommand(
    new Command('describe')
      .description('one schedule: cadence, policies, what it runs, recent firings with their outcome, next firings')
      .argument('<id>', 'schedule id')
      .action(async (id: string, _raw: unknown, command: Command) => {
        const ctx = contextFrom(command);
        await withSchedule(ctx, id, async (client, scheduleId) => {
          const view = scheduleView(await client.schedule.getHandle(scheduleId).describe());
          const recent = await Promise.all(view.recent.map(async (r) => ({ ...r, status: await workflowStatus(client, r.workflowId, r.firstExecutionRunId) })));
          if (ctx.out.json) return ctx.out.data({ ...view, recent });
          ctx.out.line(`schedule   ${view.id}${view.paused ? ' (paused)' : ''}`);
          if (view.note) ctx.out.line(`note       ${view.note}`);
          ctx.out.line(
            `when       ${view.timing}; overlap ${view.overlap}, catch-up ${view.catchupWindowSeconds}s${view.pauseOnFailure ? ', pauses on failure' : ''}`,
          );
          ctx.out.line(`runs       zfslab test ${view.what}`);
          ctx.out.line(`taken      ${view.counts.taken} (skipped for overlap ${view.counts.skippedOverlap}, missed catch-up ${view.counts.missedCatchup})`);
          ctx.out.line(`next       ${view.nextRuns.slice(0, 3).join(', ') || '-'}`);
          if (recent.length > 0) {
            ctx.out.line();
            ctx.out.line(
              table(
                recent.map((r) => [r.scheduledAt, r.takenAt, r.workflowId, r.status]),
                ['scheduled', 'started', 'workflow', 'status'],
              ),
            );
          }
        });
      }),
  );

  for (const [verb, description, act] of [
    [
      'pause',
      'pause a schedule (firings due while paused are skipped)',
      (client: Client, id: string, note: string | undefined) => client.schedule.getHandle(id).pause(note ?? 'paused with zfslab schedule pause'),
    ],
    [
      'unpause',
      'unpause a schedule',
      (client: Client, id: string, note: string | undefined) => client.schedule.getHandle(id).unpause(note ?? 'unpaused with zfslab schedule unpause'),
    ],
  ] as const) {
    schedule.addCommand(
      new Command(verb)
        .description(description)
        .argument('<id>', 'schedule id')
        .option('--note <text>', 'why (shown in describe)')
        .action(async (id: string, raw: { note?: string }, command: Command) => {
          const ctx = contextFrom(command);
          await withSchedule(ctx, id, async (client, scheduleId) => {
            await act(client, scheduleId, raw.note);
            reportDone(ctx, scheduleId, `${verb}d`);
          });
        }),
    );
  }

  schedule.addCommand(
    new Command('trigger')
      .description('start one firing now, whatever the cadence')
      .argument('<id>', 'schedule id')
      .option('--overlap <policy>', `if a run of this schedule is still going: ${OVERLAP_POLICIES.join(', ')} (default: the schedule's own)`)
      .action(async (id: string, raw: { overlap?: string }, command: Command) => {
        const ctx = contextFrom(command);
        await withSchedule(ctx, id, async (client, scheduleId) => {
          const handle = client.schedule.getHandle(scheduleId);
          const overlap =
            raw.overlap === undefined ? (await handle.describe()).policies.overlap : ScheduleOverlapPolicy[overlapPolicyName(parseOverlap(raw.overlap))];
          await handle.trigger(overlap);
          reportDone(ctx, scheduleId, 'triggered');
        });
      }),
  );

  schedule.addCommand(
    new Command('backfill')
      .description('start the firings the schedule would have started between two past instants')
      .argument('<id>', 'schedule id')
      .requiredOption('--start <iso>', 'from (ISO 8601, e.g. 2026-11-01T00:00:00Z)')
      .requiredOption('--end <iso>', 'to (ISO 8601)')
      .option('--overlap <policy>', `${OVERLAP_POLICIES.join(', ')}`, 'buffer-all')
      .action(async (id: string, raw: Record<string, unknown>, command: Command) => {
        const ctx = contextFrom(command);
        const range = parseWith(BackfillRangeSchema, raw, 'schedule backfill');
        await withSchedule(ctx, id, async (client, scheduleId) => {
          await client.schedule
            .getHandle(scheduleId)
            .backfill({ start: new Date(range.start), end: new Date(range.end), overlap: ScheduleOverlapPolicy[overlapPolicyName(range.overlap)] });
          reportDone(ctx, scheduleId, `backfilled ${range.start} .. ${range.end}`);
        });
      }),
  );

  schedule.addCommand(
    new Command('delete')
      .description('delete a schedule (runs it started stay in the history and the store)')
      .argument('<id>', 'schedule id')
      .action(async (id: string, _raw: unknown, command: Command) => {
        const ctx = contextFrom(command);
        await withSchedule(ctx, id, async (client, scheduleId) => {
          await client.schedule.getHandle(scheduleId).delete();
          reportDone(ctx, scheduleId, 'deleted');
        });
      }),
  );
  return schedule;
}

async function createSchedule(client: Client, loaded: LoadedConfig, scheduleId: string, timing: ScheduleTiming, input: ScheduledRunSpec): Promise<void> {
  const { run } = input;
  await client.schedule.create({
    scheduleId,
    spec: {
      ...(timing.every !== undefined ? { intervals: [{ every: timing.every }] } : {}),
      ...(timing.cron !== undefined ? { cronExpressions: [timing.cron] } : {}),
      ...(timing.jitter !== undefined ? { jitter: timing.jitter } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_WORKFLOW,
      workflowId: scheduledWorkflowId(scheduleId),
      taskQueue: loaded.config.temporal.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.kind, value: 'zts-scheduled' },
        { key: SEARCH_ATTRIBUTES.schedule, value: scheduleId },
        { key: SEARCH_ATTRIBUTES.host, value: run.hostId },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy[overlapPolicyName(timing.overlap)], catchupWindow: timing.catchupWindow, pauseOnFailure: timing.pauseOnFailure },
    state: { paused: timing.paused, ...(timing.note ? { note: timing.note } : {}) },
    // The cadence as it was typed: the server keeps cron strings only in compiled (calendar) form.
    memo: { zfslabTiming: describeTiming(timing) },
  });
}

export interface ScheduleView {
  id: string;
  timing: string;
  what: string;
  paused: boolean;
  note: string | undefined;
  overlap: Overlap;
  catchupWindowSeconds: number;
  pauseOnFailure: boolean;
  nextRuns: string[];
  counts: { taken: number; skippedOverlap: number; missedCatchup: number; running: number };
  recent: { scheduledAt: string; takenAt: string; workflowId: string; firstExecutionRunId: string }[];
}

function scheduleView(d: ScheduleDescription): ScheduleView {
  const input = ScheduledRunInputSchema.safeParse(d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined);
  const what = input.success
    ? `${input.data.run.targets.join(',')} ${describeRequest(input.data.run.request)} on ${input.data.run.hostId}`
    : '(not a zfslab run)';
  const timing = typeof d.memo?.zfslabTiming === 'string' ? d.memo.zfslabTiming : describeTiming({ every: d.spec.intervals?.[0]?.every as number | undefined });
  return {
    id: d.scheduleId,
    timing,
    what,
    paused: d.state.paused,
    note: d.state.note || undefined,
    overlap: OverlapSchema.parse(String(d.policies.overlap).toLowerCase().replace(/_/g, '-')),
    catchupWindowSeconds: Math.round(d.policies.catchupWindow / 1000),
    pauseOnFailure: d.policies.pauseOnFailure,
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    counts: {
      taken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      missedCatchup: d.info.numActionsMissedCatchupWindow,
      running: d.info.runningActions.length,
    },
    recent: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      firstExecutionRunId: a.action.workflow.firstExecutionRunId,
    })),
  };
}

async function workflowStatus(client: Client, workflowId: string, runId: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(workflowId, runId).describe()).status.name;
  } catch {
    return 'UNKNOWN';
  }
}

function reportDone(ctx: CliContext, scheduleId: string, what: string): void {
  if (ctx.out.json) ctx.out.data({ id: scheduleId, done: what });
  else ctx.out.line(`schedule ${scheduleId}: ${what}`);
}

async function withClient(loaded: LoadedConfig, body: (client: Client) => Promise<void>): Promise<void> {
  const client = await connectOrExplain(loaded.config);
  try {
    await body(client);
  } finally {
    await closeClient(client);
  }
}

/** Runs `body` on an existing schedule; a missing one is a usage error that says how to find the ids. */
async function withSchedule(ctx: CliContext, id: string, body: (client: Client, scheduleId: string) => Promise<void>): Promise<void> {
  const scheduleId = parseId(id);
  await withClient(ctx.loaded(), (client) =>
    body(client, scheduleId).catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule ${scheduleId} (see \`zfslab schedule list\`)`);
      throw err;
    }),
  );
}

function parseId(id: string): string {
  return parseWith(ScheduleIdSchema, id, 'schedule id');
}

function parseOverlap(text: string): Overlap {
  return parseWith(OverlapSchema, text, '--overlap');
}

/** A usage error naming each refused flag once (a schema's own message may already start with it). */
function parseWith<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = (i: z.core.$ZodIssue) => {
      if (i.path.length === 0) return i.message;
      const flag = `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      return i.message.startsWith(`${flag}:`) ? i.message : `${flag}: ${i.message}`;
    };
    throw new UsageError(`${what}: ${parsed.error.issues.map(issue).join('; ')}`);
  }
  return parsed.data;
}
