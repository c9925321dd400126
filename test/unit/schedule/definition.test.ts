import { describe, expect, it } from 'vitest';
import {
  BackfillRangeSchema,
  ScheduleTimingSchema,
  ScheduledRunInputSchema,
  describeTiming,
  overlapPolicyName,
  parseDuration,
} from '../../../core/schedule/definition.js';

describe('schedule definition', () => {
  it('parses durations in s, m, h, d, w and refuses anything else', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    for (const bad of ['', '5', '5x', '1.5h', '-1h', 'h']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('takes exactly one of --every and --cron, with SKIP overlap and a 1h catch-up window by default', () => {
    expect(ScheduleTimingSchema.parse({ every: '24h' })).toEqual({
      every: 86_400_000,
      overlap: 'skip',
      catchupWindow: 3_600_000,
      pauseOnFailure: false,
      paused: false,
    });
    expect(ScheduleTimingSchema.parse({ cron: '0 2 * * *' }).cron).toBe('0 2 * * *');
    expect(ScheduleTimingSchema.safeParse({}).error?.issues[0]?.message).toBe('give exactly one of --every and --cron');
    expect(ScheduleTimingSchema.safeParse({ every: '1h', cron: '0 2 * * *' }).success).toBe(false);
  });

  it('names the flag and the value it refuses', () => {
    expect(ScheduleTimingSchema.safeParse({ every: 'daily' }).error?.issues[0]?.message).toBe('--every: "daily" is not a duration like 30m, 24h or 7d');
    expect(ScheduleTimingSchema.safeParse({ every: '10s' }).error?.issues[0]?.message).toBe('--every: "10s" is shorter than 60s');
    expect(ScheduleTimingSchema.safeParse({ cron: '0 2 * *' }).success).toBe(false);
    expect(ScheduleTimingSchema.safeParse({ cron: '0 2 * * *; rm -rf /' }).success).toBe(false);
    expect(ScheduleTimingSchema.safeParse({ every: '1h', overlap: 'sometimes' }).success).toBe(false);
  });

  it('maps overlap names to the client enum names', () => {
    expect(overlapPolicyName('skip')).toBe('SKIP');
    expect(overlapPolicyName('buffer-one')).toBe('BUFFER_ONE');
    expect(overlapPolicyName('terminate-other')).toBe('TERMINATE_OTHER');
    expect(overlapPolicyName('allow-all')).toBe('ALLOW_ALL');
  });

  it('describes the cadence in the largest whole unit', () => {
    expect(describeTiming({ every: 604_800_000 })).toBe('every 1w');
    expect(describeTiming({ every: 86_400_000 })).toBe('every 1d');
    expect(describeTiming({ every: 5_400_000 })).toBe('every 90m');
    expect(describeTiming({ cron: '0 2 * * *' })).toBe('cron 0 2 * * *');
  });

  it('backfills an ordered range, buffered one after another by default', () => {
    expect(BackfillRangeSchema.parse({ start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' }).overlap).toBe('buffer-all');
    expect(BackfillRangeSchema.safeParse({ start: '2026-11-02T00:00:00Z', end: '2026-11-01T00:00:00Z' }).error?.issues[0]?.message).toBe(
      '--start must be before --end',
    );
    expect(BackfillRangeSchema.safeParse({ start: 'yesterday', end: '2026-11-01T00:00:00Z' }).success).toBe(false);
  });

  it('a firing carries a run template without a run id of its own', () => {
    const run = { hostId: 'lab1', targets: ['debian13'], request: { kind: 'selection', selection: { suite: 'quick' } } } as const;
    expect(ScheduledRunInputSchema.parse({ scheduleId: 'nightly', run }).run.shards).toBe(1);
    expect(ScheduledRunInputSchema.safeParse({ scheduleId: 'nightly', run: { ...run, runId: 'r1' } }).success).toBe(false);
    expect(ScheduledRunInputSchema.safeParse({ scheduleId: 'Nightly Run', run }).success).toBe(false);
  });
});
