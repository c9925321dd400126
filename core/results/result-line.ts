import type { ScriptKind, TestOutcome, TestResult } from './types.js';

/**
 * One result line of OpenZFS's test-runner.py (Cmd.log), in every shape it has had:
 *
 *   Test: /usr/share/zfs/zfs-tests/tests/functional/acl/off/setup (run as root) [00:10] [PASS]
 *   Test (Linux): /…/tests/functional/acl/posix/posix_001_pos (run as root) [00:00] [PASS]
 *   [2026-04-22T03:34:17.694616] Test (Linux): /…/functional/io/setup (run as root) [10:00] [KILLED]
 *   Test: /…/functional/rsend/setup (run as root) [00:02] [PASS] (RERAN)
 *
 * The timestamp prefix exists from 2.3.4/2.4.0 on; `(Linux)` is the runfile section's identifier
 * (`[tests/functional/x:Linux]`); minutes are `%02d` of the whole runtime, so `[196:46]` happens; the
 * padding to 80 columns disappears when the line is longer.
 */
const RESULT_LINE =
  /^(?:\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)\]\s+)?Test(?:\s+\(([^)]*)\))?:\s+(\S(?:.*\S)?)\s+\(run as ([^)]*)\)\s+\[(\d{2,}):(\d{2})\]\s+\[(PASS|FAIL|SKIP|KILLED)\]( \(RERAN\))?\s*$/;

export interface ResultLineOptions {
  /** Basenames of group pre scripts (runfile `pre`). Upstream's runfiles always say `setup`. */
  setupNames?: readonly string[];
  /** Basenames of group post scripts (runfile `post`). Upstream's runfiles always say `cleanup`. */
  cleanupNames?: readonly string[];
}

/** Parses one line (without its newline); undefined when it is not a result line. */
export function parseResultLine(line: string, options: ResultLineOptions = {}): TestResult | undefined {
  const m = RESULT_LINE.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  const [, loggedAt, identifier, pathname, user, minutes, seconds, outcome, reran] = m;
  const testId = testIdFromPath(pathname!);
  const result: TestResult = {
    testId,
    group: groupOf(testId),
    kind: scriptKind(pathname!, options),
    outcome: outcome as TestOutcome,
    reran: reran !== undefined,
    durationSeconds: Number(minutes) * 60 + Number(seconds),
    user: user!,
    linuxSection: identifier === 'Linux',
  };
  if (loggedAt !== undefined) result.loggedAt = loggedAt;
  return result;
}

/**
 * The test's id: the path after the suite's `tests/` folder (`functional/acl/off/posixmode`), which is
 * what runfile sections (`[tests/functional/acl/off]`) and zts-report's tables are keyed by. A path
 * outside any `tests/` folder (the failsafe callback, a custom script) keeps its full path.
 */
export function testIdFromPath(pathname: string): string {
  // An in-tree suite lives at `<clone>/tests/zfs-tests/tests/functional/...`: prefer the folder that
  // holds functional/perf, then the innermost `tests/`.
  const suite = /(?:^|\/)tests\/((?:functional|perf|stress)\/.*)$/.exec(pathname);
  if (suite) return suite[1]!;
  const at = pathname.lastIndexOf('/tests/');
  if (at >= 0) return pathname.slice(at + '/tests/'.length);
  if (pathname.startsWith('tests/')) return pathname.slice('tests/'.length);
  return pathname;
}

function groupOf(testId: string): string {
  const slash = testId.lastIndexOf('/');
  return slash > 0 ? testId.slice(0, slash) : testId;
}

function scriptKind(pathname: string, options: ResultLineOptions): ScriptKind {
  const base = pathname.slice(pathname.lastIndexOf('/') + 1).replace(/\.(ksh|sh)$/, '');
  if ((options.setupNames ?? ['setup']).includes(base)) return 'setup';
  if ((options.cleanupNames ?? ['cleanup']).includes(base)) return 'cleanup';
  // Upstream's failsafe is `callbacks/zfs_failsafe` beside the `tests/` folder.
  if (pathname.includes('/callbacks/') || base.endsWith('failsafe')) return 'failsafe';
  return 'test';
}

/**
 * Splits a stream of text into lines and hands out each complete line once its newline arrives, so a
 * result line cut across two chunks is parsed once, whole. `end()` flushes a last line without newline.
 */
export class LineSplitter {
  private pending = '';

  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  end(): string[] {
    const last = this.pending;
    this.pending = '';
    return last.length > 0 ? [last.replace(/\r$/, '')] : [];
  }
}

/** Feed it the runner's stdout as it arrives; it returns the results of the lines completed by each chunk. */
export class ResultLineStream {
  private readonly splitter = new LineSplitter();
  private readonly seen: string[] = [];

  constructor(private readonly options: ResultLineOptions = {}) {}

  push(chunk: string): TestResult[] {
    return this.take(this.splitter.push(chunk));
  }

  end(): TestResult[] {
    return this.take(this.splitter.end());
  }

  /** Every complete line seen so far (result lines and all others), e.g. for the summary parser. */
  get lines(): readonly string[] {
    return this.seen;
  }

  private take(lines: string[]): TestResult[] {
    const results: TestResult[] = [];
    for (const line of lines) {
      this.seen.push(line);
      const result = parseResultLine(line, this.options);
      if (result) results.push(result);
    }
    return results;
  }
}

/** All result lines of a whole text (a captured stdout, a `results` or `log` file). */
export function parseResultLines(text: string, options: ResultLineOptions = {}): TestResult[] {
  const stream = new ResultLineStream(options);
  return [...stream.push(text), ...stream.end()];
}
