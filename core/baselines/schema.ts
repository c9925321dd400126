import { z } from 'zod';

/**
 * Known and flaky ZTS results of one OpenZFS release series, transcribed from upstream's
 * `tests/test-runner/bin/zts-report.py.in` (its `known` and `maybe` tables) by
 * `core/baselines/tools/extract-zts-report.py`. Keys are the test path after `functional/` (or
 * `perf/regression/`), as zts-report keys them.
 */
export const BaselinePlatformSchema = z.enum(['linux', 'freebsd']);
export type BaselinePlatform = z.infer<typeof BaselinePlatformSchema>;

export const BaselineEntrySchema = z
  .strictObject({
    /** `cli_root/zpool_import/import_rewind_device_replaced`, `trim/setup` … */
    test: z.string().min(1),
    /** `known`: expected every time; `maybe`: may happen (flaky, or depends on the machine). */
    list: z.enum(['known', 'maybe']),
    /** The result the entry excuses. zts-report matches it exactly: a KILLED test is never excused. */
    expect: z.enum(['FAIL', 'SKIP']),
    /** Upstream issue number, when the table gives one instead of a reason. */
    issue: z.number().int().positive().optional(),
    /** The table's reason text, when it gives one (`Known issue`, `Kernel statx(2) system call required on Linux` …). */
    reason: z.string().optional(),
    /** Which `sys.platform` branches of zts-report hold this entry. */
    platforms: z.array(BaselinePlatformSchema).min(1),
  })
  .refine((e) => e.issue !== undefined || e.reason !== undefined, { message: 'an entry needs an issue or a reason' });
export type BaselineEntry = z.infer<typeof BaselineEntrySchema>;

export const BaselineSchema = z.strictObject({
  /** Release series, `major.minor`. */
  series: z.string().regex(/^\d+\.\d+$/),
  origin: z.strictObject({
    repository: z.string(),
    tag: z.string(),
    commit: z.string().regex(/^[0-9a-f]{40}$/),
    path: z.string(),
    extractedBy: z.string(),
  }),
  entries: z.array(BaselineEntrySchema),
});
export type Baseline = z.infer<typeof BaselineSchema>;

/** Validates baseline data (parsed JSON, or JSON text). Throws a ZodError naming the bad entry. */
export function parseBaseline(data: unknown): Baseline {
  return BaselineSchema.parse(typeof data === 'string' ? JSON.parse(data) : data);
}
