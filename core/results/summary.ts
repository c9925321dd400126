import { z } from 'zod';

/**
 * The block test-runner.py prints at the end of a run (TestRun.summary), unchanged from 2.1 to 2.4:
 *
 *   Results Summary
 *   PASS	   8
 *   FAIL	   2
 *   SKIP	   3
 *   KILLED	   1
 *
 *   Running Time:	00:00:02
 *   Percent passed:	57.1%
 *   Log directory:	/var/tmp/test_results/20261126T180754
 *
 * Zero counts are left out. It is not printed at all when no test ran (the runner exits 2).
 * In a `results` file written by zfs-tests.sh, zts-report's analysis follows it.
 */
export const RunSummarySchema = z.object({
  counts: z.object({
    PASS: z.number().int().nonnegative(),
    FAIL: z.number().int().nonnegative(),
    SKIP: z.number().int().nonnegative(),
    KILLED: z.number().int().nonnegative(),
    RERAN: z.number().int().nonnegative(),
  }),
  /** PASS + FAIL + SKIP + KILLED: every script run, including setup, cleanup and failsafe scripts. */
  total: z.number().int().nonnegative(),
  runningTimeSeconds: z.number().nonnegative().optional(),
  percentPassed: z.number().min(0).max(100).optional(),
  logDirectory: z.string().optional(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

const COUNT_LINE = /^(PASS|FAIL|SKIP|KILLED|RERAN)\s+(\d+)\s*$/;

/** The last Results Summary block in the text, or undefined when there is none. */
export function parseSummary(text: string | readonly string[]): RunSummary | undefined {
  const lines = typeof text === 'string' ? text.split('\n') : text;
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.trim() === 'Results Summary') {
      start = i;
      break;
    }
  }
  if (start < 0) return undefined;
  const counts = { PASS: 0, FAIL: 0, SKIP: 0, KILLED: 0, RERAN: 0 };
  const summary: RunSummary = { counts, total: 0 };
  for (const raw of lines.slice(start + 1)) {
    const line = raw.replace(/\r$/, '');
    const count = COUNT_LINE.exec(line);
    if (count) {
      counts[count[1] as keyof typeof counts] = Number(count[2]);
      continue;
    }
    const field = /^(Running Time|Percent passed|Log directory):\s*(.*?)\s*$/.exec(line);
    if (!field) continue;
    const value = field[2]!;
    if (field[1] === 'Running Time') {
      const hms = /^(\d+):(\d{2}):(\d{2})$/.exec(value);
      if (hms) summary.runningTimeSeconds = Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3]);
    } else if (field[1] === 'Percent passed') {
      const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
      if (pct) summary.percentPassed = Number(pct[1]);
    } else {
      if (value) summary.logDirectory = value;
      // The log directory is the block's last line; anything after it is zts-report's.
      break;
    }
  }
  summary.total = counts.PASS + counts.FAIL + counts.SKIP + counts.KILLED;
  return summary;
}
