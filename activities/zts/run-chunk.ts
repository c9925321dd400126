import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { RunProgress, runnerOrder } from '../../core/results/run-order.js';
import { ResultLineStream } from '../../core/results/result-line.js';
import { parseSummary, type RunSummary } from '../../core/results/summary.js';
import { TestResultSchema, type TestResult } from '../../core/results/types.js';
import { judgeRun, type RunVerdict } from '../../core/results/verdict.js';
import { baseName } from '../../core/runfile/ids.js';
import { parseRunfile } from '../../core/runfile/parse.js';
import { renderRunfile } from '../../core/runfile/render.js';
import { resolveRunfiles } from '../../core/runfile/resolve.js';
import { withOutputDir } from '../../core/runfile/select.js';
import type { Logger } from '../../lib/log.js';
import type { RunnerInvocation, RunnerTarget } from './runner-target.js';

/**
 * Runs one chunk of the ZTS with the real test-runner.py and reports each finished script as it
 * happens. The caller (the Temporal activity) gives the runfile already cut to the tests still to run
 * and the results of earlier attempts; every heartbeat carries all finished results so far, so a
 * retry after a crash starts from the last heartbeat with only the remaining tests.
 */
export const TestRunnerInputSchema = z.strictObject({
  /** Runfile text to run (already reduced to the remaining tests). Its `outputdir` is replaced. */
  runfileText: z.string().min(1),
  /** test-runner.py on the target. */
  runnerPath: z.string().startsWith('/'),
  /** The suite root given as `-i` (`/usr/share/zfs/zfs-tests`); sections are relative to it. */
  testDir: z.string().startsWith('/'),
  /** A fresh directory on the target for this attempt: `-o` and the runfile's outputdir. */
  outputBase: z.string().startsWith('/'),
  /** Results finished by earlier attempts of this chunk. */
  previous: z.array(TestResultSchema).default([]),
  /** `-T` tags; groups without any of them are not run (zfs-tests.sh passes `functional`). */
  tags: z.array(z.string().regex(/^[^,\s]+$/)).optional(),
  python: z.string().min(1).default('python3'),
  /** TMPDIR for the runner: the 2.3.x runner builds a broken sudo command line when it is unset. */
  tmpDir: z.string().startsWith('/').default('/var/tmp'),
  /** Extra environment for the runner (e.g. PATH for the suite's constrained path). */
  env: z.record(z.string(), z.string()).default({}),
});
export type TestRunnerInput = z.input<typeof TestRunnerInputSchema>;

export interface ChunkHeartbeat {
  /** Every finished script: earlier attempts' first, then this attempt's, in the order they ended. */
  finished: TestResult[];
  /** The script running now (the one after the last reported), when the plan says. */
  current?: string;
}

export interface TestRunnerDeps {
  heartbeat(details: ChunkHeartbeat): void;
  signal: AbortSignal;
  log: Logger;
  target: RunnerTarget;
}

export interface TestRunnerResult {
  /** Earlier attempts' results followed by this attempt's (which start at `previousCount`). */
  results: TestResult[];
  previousCount: number;
  summary: RunSummary | undefined;
  /** The runner's timestamped result directory on the target (`log`, per-test output, our `results`). */
  resultsDir: string | undefined;
  exitCode: number | null;
  verdict: RunVerdict;
  /** Set when the run cannot be judged from its output (no result line, no summary, runner error). */
  infraError?: string;
  /** True when the abort signal stopped the run; results are partial. */
  cancelled: boolean;
  /** The end of the runner's stderr (verification warnings, Python tracebacks). The whole stdout is not
   * returned (it would weigh on workflow history); it is in `<resultsDir>/results`. */
  stderrTail: string;
}

const STDERR_TAIL = 64 * 1024;

export async function runTestRunner(rawInput: TestRunnerInput, deps: TestRunnerDeps): Promise<TestRunnerResult> {
  const input = TestRunnerInputSchema.parse(rawInput);
  const { log, target } = deps;
  const doc = withOutputDir(parseRunfile(input.runfileText, 'chunk.run'), input.outputBase);
  const sections = resolveRunfiles([doc]).sections;
  const progress = new RunProgress(runnerOrder(doc, input.tags));
  const lineStream = new ResultLineStream({
    setupNames: unique(['setup', ...sections.map((s) => baseName(s.pre)).filter(Boolean)]),
    cleanupNames: unique(['cleanup', ...sections.map((s) => baseName(s.post)).filter(Boolean)]),
  });

  const runfilePath = `${input.outputBase}/chunk.run`;
  await target.writeFile(runfilePath, renderRunfile(doc));
  const invocation: RunnerInvocation = {
    python: input.python,
    runnerPath: input.runnerPath,
    runfile: runfilePath,
    testDir: input.testDir,
    outputBase: input.outputBase,
    tags: input.tags ?? [],
  };

  const attempt: TestResult[] = [];
  const heartbeat = (): void => {
    const current = progress.current;
    deps.heartbeat({ finished: [...input.previous, ...attempt], ...(current ? { current: current.testId } : {}) });
  };
  if (deps.signal.aborted) return finish(undefined, true);

  log.info({ invocation, previous: input.previous.length }, 'starting test-runner');
  const runner = target.spawnRunner(invocation, { env: { TMPDIR: input.tmpDir, ...input.env }, cwd: input.outputBase });
  let cancelled = false;
  const onAbort = (): void => {
    cancelled = true;
    log.warn('chunk cancelled: stopping the runner and everything it started');
    void runner.kill();
  };
  deps.signal.addEventListener('abort', onAbort, { once: true });

  const decoder = new StringDecoder('utf8');
  const take = (results: TestResult[]): void => {
    for (const result of results) {
      attempt.push(result);
      progress.record(result);
      log.debug({ testId: result.testId, outcome: result.outcome }, 'script finished');
      heartbeat();
    }
  };
  runner.stdout.on('data', (chunk: Buffer) => take(lineStream.push(decoder.write(chunk))));
  let stderrTail = '';
  const stderrDecoder = new StringDecoder('utf8');
  runner.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + stderrDecoder.write(chunk)).slice(-STDERR_TAIL);
  });
  heartbeat();

  const exit = await runner.exit;
  deps.signal.removeEventListener('abort', onAbort);
  if (cancelled) await runner.kill();
  take(lineStream.push(decoder.end()));
  take(lineStream.end());
  stderrTail += stderrDecoder.end();
  if (exit.spawnError) stderrTail += `\n${exit.spawnError}`;
  return finish(exit.code, cancelled, stderrTail);

  async function finish(exitCode: number | null | undefined, wasCancelled: boolean, stderr = ''): Promise<TestRunnerResult> {
    const stdout = lineStream.lines.join('\n') + (lineStream.lines.length > 0 ? '\n' : '');
    const summary = parseSummary(lineStream.lines);
    const verdict = judgeRun({ results: attempt, summary, exitCode: exitCode ?? null });
    const resultsDir = summary?.logDirectory ?? (await findRunDir(target, input.outputBase, log));
    if (resultsDir) {
      // What zfs-tests.sh keeps as `results` (without zts-report's part): the runner's console output.
      await target.writeFile(`${resultsDir}/results`, stdout).catch((err: unknown) => {
        log.warn({ err, resultsDir }, 'could not write the results file');
      });
    }
    const result: TestRunnerResult = {
      results: [...input.previous, ...attempt],
      previousCount: input.previous.length,
      summary,
      resultsDir,
      exitCode: exitCode ?? null,
      verdict,
      cancelled: wasCancelled,
      stderrTail: stderr,
    };
    if (verdict.status === 'infra-error' && !wasCancelled) {
      // The runner's own last words say why (e.g. "Could not change to directory …"); keep them with the error.
      const said = lastLines([...lineStream.lines, ...stderr.split('\n')], 6);
      result.infraError = verdict.reasons.join('; ') + (said ? `; the runner's last output: ${said}` : '');
    }
    log.info(
      { exitCode, results: attempt.length, summary: summary?.counts, verdict: verdict.status, cancelled: wasCancelled, resultsDir },
      'test-runner finished',
    );
    return result;
  }
}

/**
 * The runner's `<outputBase>/<YYYYMMDDTHHMMSS>` directory, when no summary named it. A target whose
 * kernel died took its connection with it: then there is no directory to name, and the caller's crash
 * handling, not this lookup, says what happened.
 */
async function findRunDir(target: RunnerTarget, outputBase: string, log: Logger): Promise<string | undefined> {
  let names: string[];
  try {
    names = await target.listDir(outputBase);
  } catch (err) {
    log.warn({ err, outputBase }, 'could not list the runner output directory (target gone?)');
    return undefined;
  }
  const dirs = names.filter((name) => /^\d{8}T\d{6}$/.test(name)).sort();
  const last = dirs[dirs.length - 1];
  return last ? `${outputBase}/${last}` : undefined;
}

function lastLines(lines: readonly string[], count: number): string {
  return lines
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-count)
    .join(' | ')
    .slice(-800);
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
