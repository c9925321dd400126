import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultLine, parseResultLines, ResultLineStream, testIdFromPath } from '../../../core/results/result-line.js';
import { TestResultSchema } from '../../../core/results/types.js';
import { projectRoot } from '../../../lib/paths.js';

const output = join(projectRoot, 'test/fixtures/zts-output');
const read = (rel: string): string => readFileSync(join(output, rel), 'utf8');

describe('parseResultLine on real runner output', () => {
  for (const version of ['2.1.11', '2.3.2', '2.3.9', '2.4.4']) {
    it(`reads every line of the ${version} demo run`, () => {
      const stdout = read(`${version}/demo/stdout`);
      const results = parseResultLines(stdout);
      // 13 console lines: the failsafe's line goes to the log file only.
      expect(results).toHaveLength(stdout.split('\n').filter((l) => /Test( \(Linux\))?: /.test(l)).length);
      expect(results).toHaveLength(13);
      for (const r of results) expect(TestResultSchema.safeParse(r).success).toBe(true);
      const byId = new Map(results.map((r) => [r.testId, r]));
      expect(byId.get('functional/demo/setup')).toMatchObject({ kind: 'setup', outcome: 'PASS', group: 'functional/demo' });
      expect(byId.get('functional/demo/pass_001_pos')).toMatchObject({ kind: 'test', outcome: 'PASS', user: 'root' });
      expect(byId.get('functional/demo/fail_001_neg')?.outcome).toBe('FAIL');
      expect(byId.get('functional/demo/skip_001_pos')?.outcome).toBe('SKIP');
      expect(byId.get('functional/demo/cleanup')).toMatchObject({ kind: 'cleanup', outcome: 'PASS' });
      expect(byId.get('functional/hang/hang_001_pos')).toMatchObject({ outcome: 'KILLED', durationSeconds: 2 });
      expect(byId.get('functional/setupfail/setup')).toMatchObject({ kind: 'setup', outcome: 'FAIL' });
      expect(byId.get('functional/setupfail/never_001_pos')).toMatchObject({ outcome: 'SKIP', durationSeconds: 0 });
      expect(byId.get('functional/linuxonly/linux_001_pos')?.linuxSection).toBe(true);
      expect(byId.get('functional/demo/pass_001_pos')?.linuxSection).toBe(false);
      const stamped = results.filter((r) => r.loggedAt !== undefined).length;
      // The timestamp prefix exists from 2.3.4 on.
      expect(stamped).toBe(version === '2.3.9' || version === '2.4.4' ? 13 : 0);
    });
  }

  it('reads the failsafe line that only the log file carries', () => {
    const log = readFileSync(join(runDir('2.3.2/demo'), 'log'), 'utf8');
    const results = parseResultLines(log);
    expect(results).toHaveLength(14);
    expect(results.filter((r) => r.kind === 'failsafe')).toEqual([
      expect.objectContaining({ outcome: 'PASS', testId: expect.stringMatching(/\/callbacks\/failsafe$/) }),
    ]);
  });

  it('reads the 2.3.9 timestamp prefix as given', () => {
    const first = parseResultLines(read('2.3.9/demo/stdout'))[0];
    expect(first?.loggedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
  });
});

describe('parseResultLine on transcribed lines of other versions', () => {
  const lines = read('transcribed/result-lines.txt')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('parses every example', () => {
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const line of lines) expect(parseResultLine(line), line).toBeDefined();
  });

  it('reads timestamp, (Linux), uncapped minutes, KILLED of a 2.3.4+ linux.run line', () => {
    const r = parseResultLine(lines.find((l) => l.includes('functional/io/setup'))!);
    expect(r).toEqual({
      testId: 'functional/io/setup',
      group: 'functional/io',
      kind: 'setup',
      outcome: 'KILLED',
      reran: false,
      durationSeconds: 600,
      user: 'root',
      linuxSection: true,
      loggedAt: '2026-04-22T03:34:17.694616',
    });
  });

  it('reads (RERAN) and minutes above 99', () => {
    const reran = parseResultLine(lines.find((l) => l.includes('rsend/setup'))!);
    expect(reran).toMatchObject({ reran: true, outcome: 'PASS', kind: 'setup', testId: 'functional/rsend/setup' });
    const long = parseResultLine(lines.find((l) => l.includes('[196:46]'))!);
    expect(long).toMatchObject({ durationSeconds: 196 * 60 + 46, outcome: 'KILLED', testId: 'functional/fault/scrub_after_resilver' });
    const both = parseResultLine(lines.find((l) => l.includes('(run as zts)'))!);
    expect(both).toMatchObject({ user: 'zts', durationSeconds: 7200, outcome: 'FAIL', reran: true, linuxSection: false });
  });

  it('rejects lines that are not result lines', () => {
    for (const line of [
      'Results Summary',
      'PASS\t   8',
      "Warning: Test 'x' removed from TestGroup '/y' because it failed verification.",
      '18:08:02.98 fail_001_neg: about to fail',
      'Test: /a/b (run as root) [00:00] [MAYBE]',
      'Test: /a/b (run as root) [0:00] [PASS]',
    ]) {
      expect(parseResultLine(line), line).toBeUndefined();
    }
  });
});

describe('ResultLineStream', () => {
  it('emits a result only once its line is complete, whatever the chunking', () => {
    const text = read('2.4.4/demo/stdout');
    const whole = parseResultLines(text);
    for (const size of [1, 7, 80, 4096]) {
      const stream = new ResultLineStream();
      const seen = [];
      for (let i = 0; i < text.length; i += size) seen.push(...stream.push(text.slice(i, i + size)));
      seen.push(...stream.end());
      expect(seen).toEqual(whole);
    }
  });

  it('holds a partial line back until its newline arrives', () => {
    const stream = new ResultLineStream();
    expect(stream.push('Test: /s/tests/functional/a/t1 (run as root) [00:01] [PA')).toEqual([]);
    expect(stream.push('SS]\nTest: /s/tests/functional/a/t2 (run')).toHaveLength(1);
    expect(stream.end()).toEqual([]);
    expect(stream.lines).toHaveLength(2);
  });

  it('parses a final line without newline at end()', () => {
    const stream = new ResultLineStream();
    expect(stream.push('Test: /s/tests/functional/a/t1 (run as root) [00:01] [FAIL]')).toEqual([]);
    expect(stream.end()).toEqual([expect.objectContaining({ testId: 'functional/a/t1', outcome: 'FAIL' })]);
  });
});

describe('testIdFromPath', () => {
  it('keeps the path after the suite tests/ folder', () => {
    expect(testIdFromPath('/usr/share/zfs/zfs-tests/tests/functional/acl/off/posixmode')).toBe('functional/acl/off/posixmode');
    expect(testIdFromPath('/usr/share/zfs/zfs-tests/tests/perf/regression/random_reads')).toBe('perf/regression/random_reads');
    expect(testIdFromPath('/usr/share/zfs/zfs-tests/callbacks/zfs_failsafe')).toBe('/usr/share/zfs/zfs-tests/callbacks/zfs_failsafe');
  });
});

/** The one timestamped result directory a fixture case captured. */
export function runDir(caseDir: string): string {
  const dirs = readdirSync(join(output, caseDir, 'results-dir'));
  expect(dirs).toHaveLength(1);
  return join(output, caseDir, 'results-dir', dirs[0]!);
}
