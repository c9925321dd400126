import { z } from 'zod';
import { MatrixRunInputSchema, ScheduleIdSchema } from '../test-run/input.js';

/**
 * A zfslab schedule: a Temporal Schedule whose action starts `scheduledTestRun` with a run template
 * (a `zfslab test` request without its run id; each firing gets its own). This module is the pure
 * part: the flags a person gives, checked and turned into what the Temporal client is handed.
 */

export { ScheduleIdSchema };

const DURATION = /^(\d+)(s|m|h|d|w)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `90s`, `30m`, `24h`, `7d`, `1w` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const Duration = (what: string, minMs: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${what}: "${text}" is not a duration like 30m, 24h or 7d` });
      return z.NEVER;
    }
    if (ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `${what}: "${text}" is shorter than ${minMs / 1000}s` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * Five cron fields (minute hour day-of-month month day-of-week), as Temporal's cron strings take
 * them; the server parses them for real, this only refuses what can never be one.
 */
const CronSchema = z
  .string()
  .trim()
  .refine((text) => text.split(/\s+/).length === 5 && /^[0-9A-Za-z*/,?#LW\s-]+$/.test(text), {
    message: 'a cron expression of five fields, e.g. "0 2 * * *" (02:00 every day) or "0 3 * * SUN"',
  });

/** Temporal's overlap policies, by the names people type. SKIP is the default: a nightly run that is still going is not doubled. */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
export const OverlapSchema = z.enum(OVERLAP_POLICIES);
export type Overlap = z.infer<typeof OverlapSchema>;

/** The enum names of @temporalio/client's ScheduleOverlapPolicy, so the CLI maps without a table of its own. */
export function overlapPolicyName(overlap: Overlap): 'SKIP' | 'BUFFER_ONE' | 'BUFFER_ALL' | 'CANCEL_OTHER' | 'TERMINATE_OTHER' | 'ALLOW_ALL' {
  return overlap.toUpperCase().replace(/-/g, '_') as ReturnType<typeof overlapPolicyName>;
}

/** The timing and policy flags of `zfslab schedule create`, as commander hands them over. */
export const ScheduleTimingSchema = z
  .strictObject({
    every: Duration('--every', 60_000).optional(),
    cron: CronSchema.optional(),
    overlap: OverlapSchema.default('skip'),
    /** How late a missed firing (server down, schedule paused) may still start; older ones are dropped. */
    catchupWindow: Duration('--catchup-window', 10_000).default(3_600_000),
    pauseOnFailure: z.boolean().default(false),
    paused: z.boolean().default(false),
    jitter: Duration('--jitter', 0).optional(),
    note: z.string().trim().min(1).max(500).optional(),
  })
  .refine((t) => (t.every === undefined) !== (t.cron === undefined), { message: 'give exactly one of --every and --cron' });
export type ScheduleTiming = z.output<typeof ScheduleTimingSchema>;

/** What a firing starts: the run as `zfslab test` would start it, minus the run id. */
export const ScheduledRunInputSchema = z.strictObject({
  scheduleId: ScheduleIdSchema,
  run: MatrixRunInputSchema.omit({ runId: true, dryRun: true, scheduleId: true }),
});
export type ScheduledRunInput = z.input<typeof ScheduledRunInputSchema>;
export type ScheduledRunSpec = z.output<typeof ScheduledRunInputSchema>;

/** The workflow id prefix of a schedule's firings; Temporal appends the scheduled time. */
export function scheduledWorkflowId(scheduleId: string): string {
  return `zts-scheduled-${scheduleId}`;
}

/** `every 24h`, `cron 0 2 * * *`, for tables. */
export function describeTiming(t: { every?: number; cron?: string }): string {
  if (t.cron !== undefined) return `cron ${t.cron}`;
  if (t.every === undefined) return 'none';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (t.every % UNIT_MS[unit] === 0) return `every ${t.every / UNIT_MS[unit]}${unit}`;
  }
  return `every ${t.every}ms`;
}

/**
 * A backfill range: what the schedule would have started between two ISO instants. Firings are
 * buffered one after another by default, so a week of nightly runs does not land on a lab at once.
 */
export const BackfillRangeSchema = z
  .strictObject({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }), overlap: OverlapSchema.default('buffer-all') })
  .refine((r) => Date.parse(r.start) < Date.parse(r.end), { message: '--start must be before --end' });
export type BackfillRange = z.output<typeof BackfillRangeSchema>;
