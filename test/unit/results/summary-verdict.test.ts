import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultLines } from '../../../core/results/result-line.js';
import { parseSummary } from '../../../core/results/summary.js';
import { judgeRun } from '../../../core/results/verdict.js';
import { projectRoot } from '../../../lib/paths.js';

const output = join(projectRoot, 'test/fixtures/zts-output');
const read = (rel: string): string => readFileSync(join(output, rel), 'utf8');

describe('parseSummary', () => {
  for (const version of ['2.1.11', '2.3.2', '2.3.9', '2.4.4']) {
    it(`reads the ${version} demo summary`, () => {
      const summary = parseSummary(read(`${version}/demo/stdout`));
      expect(summary).toMatchObject({
        counts: { PASS: 8, FAIL: 2, SKIP: 3, KILLED: 1, RERAN: 0 },
        total: 14,
        runningTimeSeconds: 2,
        percentPassed: 57.1,
      });
      expect(summary?.logDirectory).toMatch(/^\/tmp\/zts-capture\.\w+\/out\/\d{8}T\d{6}$/);
    });
  }

  it('finds no summary when no test ran', () => {
    expect(parseSummary(read('2.1.11/no-tests/stdout'))).toBeUndefined();
  });

  it('stops at the log directory line of a zfs-tests.sh results file (zts-report text follows)', () => {
    const text = [
      'Results Summary',
      'PASS\t1156',
      'FAIL\t  22',
      'SKIP\t  32',
      '',
      'Running Time:\t02:50:31',
      'Percent passed:\t95.5%',
      'Log directory:\t/var/tmp/test_results/20180615T205926',
      '',
      'Tests with results other than PASS that are expected:',
      '    FAIL casenorm/mixed_formd_lookup (https://github.com/openzfs/zfs/issues/7633)',
    ].join('\n');
    expect(parseSummary(text)).toEqual({
      counts: { PASS: 1156, FAIL: 22, SKIP: 32, KILLED: 0, RERAN: 0 },
      total: 1210,
      runningTimeSeconds: 2 * 3600 + 50 * 60 + 31,
      percentPassed: 95.5,
      logDirectory: '/var/tmp/test_results/20180615T205926',
    });
  });
});

describe('judgeRun', () => {
  it('completes a real run whose lines and summary agree, though it exited 1', () => {
    const stdout = read('2.3.9/demo/stdout');
    const verdict = judgeRun({ results: parseResultLines(stdout), summary: parseSummary(stdout), exitCode: 1 });
    expect(verdict).toEqual({ status: 'completed', reasons: [], runnerExit: 'failures' });
  });

  it('counts a run that ran nothing as an infrastructure error', () => {
    const stdout = read('2.1.11/no-tests/stdout');
    const exitCode = Number(read('2.1.11/no-tests/exit-code'));
    const verdict = judgeRun({ results: parseResultLines(stdout), summary: parseSummary(stdout), exitCode });
    expect(verdict.status).toBe('infra-error');
    expect(verdict.runnerExit).toBe('no-tests');
    expect(verdict.reasons).toContain('no result line was printed');
  });

  it('never passes a run without result lines, even with exit 0 (zfs-tests.sh does that)', () => {
    expect(judgeRun({ results: [], summary: undefined, exitCode: 0 }).status).toBe('infra-error');
  });

  it('counts a run cut off before its summary as an infrastructure error', () => {
    const stdout = read('2.4.4/demo/stdout');
    const cut = stdout.slice(0, stdout.indexOf('Results Summary'));
    const verdict = judgeRun({ results: parseResultLines(cut), summary: parseSummary(cut), exitCode: null });
    expect(verdict.status).toBe('infra-error');
    expect(verdict.reasons).toEqual(['no Results Summary block was printed', 'the runner was killed by a signal']);
  });

  it('accepts -q output, where PASS lines are missing from stdout', () => {
    const stdout = read('2.3.2/quiet/stdout');
    const results = parseResultLines(stdout);
    expect(results.some((r) => r.outcome === 'PASS')).toBe(false);
    expect(judgeRun({ results, summary: parseSummary(stdout), exitCode: 1 }).status).toBe('completed');
  });

  it('flags lines the summary does not count (two runs mixed up)', () => {
    const stdout = read('2.1.11/demo/stdout');
    const results = parseResultLines(stdout + stdout);
    const verdict = judgeRun({ results, summary: parseSummary(stdout), exitCode: 1 });
    expect(verdict.status).toBe('infra-error');
    expect(verdict.reasons).toContain('4 FAIL lines but the summary counts 2');
  });
});
