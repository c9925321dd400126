import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselineFor } from '../../../core/baselines/index.js';
import { classify } from '../../../core/baselines/classify.js';
import { parseResultLines } from '../../../core/results/result-line.js';
import { parseSummary } from '../../../core/results/summary.js';
import type { RunSummary } from '../../../core/results/summary.js';
import type { ClassifiedResult } from '../../../core/results/types.js';
import { projectRoot } from '../../../lib/paths.js';

/**
 * Runs parsed from the REAL test-runner captures in test/fixtures/zts-output (see its README):
 * the `log` file (which, unlike stdout, holds the failsafe line) through core/results' parser and
 * the shipped baseline of the runner's release.
 */
export interface CapturedRun {
  case: string;
  version: string;
  /** From the result dir's name (YYYYMMDDTHHMMSS, UTC). */
  startedAt: string;
  results: ClassifiedResult[];
  /** The runner's own Results Summary from its stdout. */
  summary: RunSummary | undefined;
}

export function readCapture(version: string, caseName: string): CapturedRun {
  const dir = join(projectRoot, 'test/fixtures/zts-output', version, caseName);
  const [stamp] = readdirSync(join(dir, 'results-dir'));
  if (stamp === undefined) throw new Error(`no result dir in ${dir}`);
  const log = readFileSync(join(dir, 'results-dir', stamp, 'log'), 'utf8');
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (m === null) throw new Error(`unexpected result dir name ${stamp}`);
  return {
    case: caseName,
    version,
    startedAt: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`,
    results: classify(parseResultLines(log), baselineFor(version)),
    summary: parseSummary(readFileSync(join(dir, 'stdout'), 'utf8')),
  };
}
