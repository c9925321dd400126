import { z } from 'zod';
import { CrashMarkSchema } from '../crash/mark.js';

/**
 * CRASH is zfslab's: the test was in flight when the guest kernel died (panic, Oops, hung task…);
 * it is kept apart from FAIL (the test's verdict) and KILLED (the runner's timeout).
 *
 * The runner's own vocabulary (test-runner.py): every executed script ends PASS, FAIL, SKIP or KILLED;
 * RERAN is a flag on a result, not an outcome of its own. These types are shared by the parser,
 * the workflows, the results store and the CLI, so they are the contract between them.
 */
export const TestOutcomeSchema = z.enum(['PASS', 'FAIL', 'SKIP', 'KILLED', 'CRASH']);
export type TestOutcome = z.infer<typeof TestOutcomeSchema>;

/**
 * What a result line was: a test, or a group's setup/cleanup script (which count in the runner's totals),
 * or the failsafe script the runner runs after a KILLED test (its line is only in the `log` file, never on
 * stdout, yet it counts in the Results Summary totals).
 */
export const ScriptKindSchema = z.enum(['test', 'setup', 'cleanup', 'failsafe']);
export type ScriptKind = z.infer<typeof ScriptKindSchema>;

export const TestResultSchema = z.object({
  /** Path after `tests/` for the stock suite (`functional/cli_root/zpool_create/zpool_create_001_pos`), else the full path. */
  testId: z.string().min(1),
  /** The group (the runfile section) the script belongs to, e.g. `functional/cli_root/zpool_create`. */
  group: z.string().min(1),
  kind: ScriptKindSchema,
  outcome: TestOutcomeSchema,
  /** True when the line carried ` (RERAN)`. */
  reran: z.boolean(),
  durationSeconds: z.number().nonnegative(),
  /** The user the runner ran it as (`run as root`). */
  user: z.string(),
  /** The line carried `(Linux)`: the section came from linux.run. */
  linuxSection: z.boolean(),
  /** ISO timestamp from the line prefix (OpenZFS ≥ 2.3.4), when present. */
  loggedAt: z.string().optional(),
  /** On a CRASH result (zfslab's, not the runner's): what the guest's console said. */
  crash: CrashMarkSchema.optional(),
});
export type TestResult = z.infer<typeof TestResultSchema>;

/** How a result compares with the known/flaky baseline of its OpenZFS version (zts-report's idea). */
export const ClassificationSchema = z.enum(['pass', 'skip', 'expected-fail', 'flaky', 'unexpected-fail']);
export type Classification = z.infer<typeof ClassificationSchema>;

export const ClassifiedResultSchema = TestResultSchema.extend({
  classification: ClassificationSchema,
  /** Upstream issue behind an expected or flaky failure. */
  issueUrl: z.string().optional(),
  /** The baseline's reason when it names one instead of (or besides) an issue, e.g. `Known issue`. */
  reason: z.string().optional(),
});
export type ClassifiedResult = z.infer<typeof ClassifiedResultSchema>;
