import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../lib/errors.js';
import { diagnoseMatrix, diagnoseRow } from '../../../core/matrix/diagnose.js';
import { buildMatrix, FlavorResultsSchema, summarizeMatrix } from '../../../core/matrix/matrix.js';
import type { FlavorMeta, FlavorResults } from '../../../core/matrix/matrix.js';
import { compareVersions, kernelSeries, parseOpenzfsVersion } from '../../../core/matrix/versions.js';
import type { Classification, ClassifiedResult, TestOutcome } from '../../../core/results/types.js';
import { testResult } from '../../support/results.js';

/** Five flavors across OpenZFS versions and kernels, with kernels as their distros ship them. */
const centos9: FlavorMeta = { id: 'centos9', os: 'centos-stream', release: '9', kernel: '5.14.0-570.el9.x86_64', openzfsVersion: '2.2.9' };
const rocky9: FlavorMeta = { id: 'rocky9', os: 'rocky', release: '9.6', kernel: '5.14.0-503.40.1.el9_5', openzfsVersion: '2.2.9' };
const fedora44: FlavorMeta = { id: 'fedora44', os: 'fedora', release: '44', kernel: '6.19.3-300.fc44', openzfsVersion: '2.4.1' };
const debian13: FlavorMeta = { id: 'debian13', os: 'debian', release: '13', kernel: '6.12.48+deb13-amd64', openzfsVersion: '2.3.2-1' };
const ubuntu24: FlavorMeta = { id: 'ubuntu24', os: 'ubuntu', release: '24.04', kernel: '6.8.0-60-generic', openzfsVersion: '2.2.2-0ubuntu9' };
const FIVE = [centos9, rocky9, fedora44, debian13, ubuntu24];

const TEST = 'functional/cli_root/zfs_load-key/zfs_load-key_https';

type Mark = 'P' | 'F' | 'K' | 'S' | 'X' | '-';
/** P pass, F unexpected FAIL, K unexpected KILLED, S skip, X expected (known) FAIL, - no result. */
function result(testId: string, mark: Exclude<Mark, '-'>): ClassifiedResult {
  const table: Record<Exclude<Mark, '-'>, [TestOutcome, Classification]> = {
    P: ['PASS', 'pass'],
    F: ['FAIL', 'unexpected-fail'],
    K: ['KILLED', 'unexpected-fail'],
    S: ['SKIP', 'skip'],
    X: ['FAIL', 'expected-fail'],
  };
  const [outcome, classification] = table[mark];
  return { ...testResult(testId, outcome, { durationSeconds: 3 }), classification };
}

/** One row: marks in the order of `flavors`. */
function matrixOf(marks: string, flavors: FlavorMeta[] = FIVE, testId = TEST) {
  const input: FlavorResults[] = flavors.map((flavor, i) => {
    const mark = marks[i] as Mark;
    return { flavor, results: mark === '-' ? [] : [result(testId, mark)] };
  });
  return buildMatrix(input.map((i) => FlavorResultsSchema.parse(i)));
}

function diagnose(marks: string, flavors: FlavorMeta[] = FIVE) {
  const matrix = matrixOf(marks, flavors);
  const row = matrix.rows[0];
  return row ? diagnoseRow(row, matrix.flavors) : undefined;
}

describe('matrix', () => {
  it('has a cell for every flavor, "not run" where a flavor has no result', () => {
    const matrix = buildMatrix([
      { flavor: centos9, results: [result('functional/a/t1', 'P'), result('functional/a/t2', 'F')] },
      { flavor: fedora44, results: [result('functional/a/t1', 'P'), result('functional/b/new_in_24', 'P')] },
    ]);
    expect(matrix.rows.map((r) => r.testId)).toEqual(['functional/a/t1', 'functional/a/t2', 'functional/b/new_in_24']);
    expect(matrix.rows[1]?.cells.fedora44).toEqual({ ran: false });
    expect(matrix.rows[2]?.cells.centos9).toEqual({ ran: false });
    expect(summarizeMatrix(matrix)).toEqual({
      centos9: { pass: 1, skip: 0, 'expected-fail': 0, flaky: 0, 'unexpected-fail': 1, 'not-run': 1 },
      fedora44: { pass: 2, skip: 0, 'expected-fail': 0, flaky: 0, 'unexpected-fail': 0, 'not-run': 1 },
    });
  });

  it('puts setup first and cleanup last in a group, and merges a test that ran twice into its worst run', () => {
    const setup = { ...result('functional/mmap/setup', 'P'), kind: 'setup' as const };
    const cleanup = { ...result('functional/mmap/cleanup', 'P'), kind: 'cleanup' as const };
    const matrix = buildMatrix([
      {
        flavor: debian13,
        results: [result('functional/mmap/mmap_sync_001_pos', 'P'), cleanup, setup, result('functional/mmap/mmap_sync_001_pos', 'K')],
      },
    ]);
    expect(matrix.rows.map((r) => r.testId)).toEqual(['functional/mmap/setup', 'functional/mmap/mmap_sync_001_pos', 'functional/mmap/cleanup']);
    expect(matrix.rows[1]?.cells.debian13).toMatchObject({ ran: true, outcome: 'KILLED', classification: 'unexpected-fail', runs: 2, durationSeconds: 6 });
  });

  it('refuses a flavor given twice', () => {
    expect(() =>
      buildMatrix([
        { flavor: centos9, results: [] },
        { flavor: centos9, results: [] },
      ]),
    ).toThrow(UsageError);
  });
});

describe('diagnosis', () => {
  it('leaves alone a test that failed nowhere unexpectedly (a known failure is not diagnosed)', () => {
    expect(diagnose('PPPPP')).toBeUndefined();
    expect(diagnose('XXPPP')).toBeUndefined();
  });

  it('only one flavor fails, others pass → distro patch or packaging (rocky vs centos: same OpenZFS, same kernel)', () => {
    const d = diagnose('PFPPP')!;
    expect(d.verdict).toBe('distro-patch-or-packaging');
    expect(d.flavor).toBe('rocky9');
    expect(d.alsoFits).toEqual([]);
    expect(d.explanation).toContain('fails only on rocky9');
  });

  it('only Ubuntu fails → distro patch, noting that Ubuntu is also alone on kernel 6.8', () => {
    const d = diagnose('PPPPF')!;
    expect(d.verdict).toBe('distro-patch-or-packaging');
    expect(d.flavor).toBe('ubuntu24');
    expect(d.alsoFits).toEqual(['kernel-api-change']);
  });

  it('fails on exactly the flavors at OpenZFS >= 2.3.2 → upstream regression candidate, naming 2.3.2', () => {
    const d = diagnose('PPFFP')!;
    expect(d.verdict).toBe('upstream-regression-candidate');
    expect(d.firstFailingVersion).toBe('2.3.2-1');
    expect(d.lastPassingVersion).toBe('2.2.9');
    expect(d.failing).toEqual(['fedora44', 'debian13']);
    expect(d.alsoFits).toEqual([]);
  });

  it('fails on exactly the el9 pair (kernel 5.14) → kernel API change', () => {
    const d = diagnose('FKPPP')!;
    expect(d.verdict).toBe('kernel-api-change');
    expect(d.kernelSeries).toBe('5.14');
  });

  it('a kernel series shared across OpenZFS versions and distros', () => {
    const debian12bpo: FlavorMeta = { id: 'debian12-bpo', os: 'debian', release: '12', kernel: '6.12.38+deb12-amd64', openzfsVersion: '2.3.1-1~bpo12+1' };
    const flavors = [...FIVE, debian12bpo];
    const d = diagnose('PPPFPF', flavors)!;
    expect(d.verdict).toBe('kernel-api-change');
    expect(d.kernelSeries).toBe('6.12');
    // Failing on debian13 (6.12) but passing on debian12-bpo (6.12) is no kernel change.
    expect(diagnose('PPPFPP', flavors)?.verdict).toBe('distro-patch-or-packaging');
  });

  it('fails everywhere → the test or the environment', () => {
    const d = diagnose('FFXFK')!;
    expect(d.verdict).toBe('test-or-environment');
    expect(d.failing).toHaveLength(5);
  });

  it('a mixed pattern → unclear', () => {
    // Fails on 2.2.2 and 2.4.1, passes on 2.2.9 and 2.3.2, kernels all different.
    const d = diagnose('PPFPF')!;
    expect(d.verdict).toBe('unclear');
    expect(d.consistentWith).toEqual([]);
    expect(d.explanation).toContain('matches no single');
  });

  it('fails only on 2.3.2 while 2.4.1 passes → not an upstream regression "from X on"', () => {
    const d = diagnose('PPPFP')!;
    expect(d.verdict).toBe('distro-patch-or-packaging');
    expect(d.alsoFits).not.toContain('upstream-regression-candidate');
  });

  describe('flavors with no evidence do not count as passing', () => {
    it('one failure, all others skipped or not run → unclear, not a distro patch', () => {
      const d = diagnose('SS-F-')!;
      expect(d.verdict).toBe('unclear');
      expect(d.noEvidence).toEqual([
        { flavor: 'centos9', why: 'skipped' },
        { flavor: 'rocky9', why: 'skipped' },
        { flavor: 'fedora44', why: 'not-run' },
        { flavor: 'ubuntu24', why: 'not-run' },
      ]);
      expect(d.consistentWith).toEqual(['test-or-environment']);
    });

    it('one failure, some pass, one skipped → unclear but consistent with a distro patch', () => {
      const d = diagnose('PPSFP')!;
      expect(d.verdict).toBe('unclear');
      expect(d.consistentWith).toContain('distro-patch-or-packaging');
      expect(d.explanation).toContain('fedora44 (skipped)');
    });

    it('every flavor that ran fails but one skipped → unclear, consistent with test-or-environment', () => {
      const d = diagnose('FFSFF')!;
      expect(d.verdict).toBe('unclear');
      expect(d.consistentWith).toEqual(['test-or-environment']);
    });

    it('the flavors >= 2.3.2 fail except one that did not run → upstream regression stays a candidate only', () => {
      const d = diagnose('PP-FP')!;
      expect(d.verdict).toBe('unclear');
      expect(d.consistentWith).toEqual(['distro-patch-or-packaging', 'upstream-regression-candidate', 'kernel-api-change']);
    });

    it('the el9 pair with one of them skipped → kernel change is consistent, not confirmed', () => {
      const d = diagnose('FSPPP')!;
      expect(d.verdict).toBe('unclear');
      expect(d.consistentWith).toContain('kernel-api-change');
    });
  });

  it('a one-flavor matrix cannot triangulate', () => {
    const d = diagnose('F', [debian13])!;
    expect(d.verdict).toBe('unclear');
    expect(d.explanation).toContain('only one flavor');
  });

  it('diagnoses each unexpectedly failing row of a whole matrix', () => {
    const input: FlavorResults[] = FIVE.map((flavor, i) => ({
      flavor,
      results: [result('functional/a/passes', 'P'), result('functional/a/ubuntu_only', i === 4 ? 'F' : 'P'), result('functional/a/everywhere', 'F')],
    }));
    const verdicts = diagnoseMatrix(buildMatrix(input)).map((d) => [d.testId, d.verdict]);
    expect(verdicts).toEqual([
      ['functional/a/ubuntu_only', 'distro-patch-or-packaging'],
      ['functional/a/everywhere', 'test-or-environment'],
    ]);
  });
});

describe('versions', () => {
  it('reads distro version strings and orders them numerically', () => {
    expect(parseOpenzfsVersion('2.3.2-1~bpo12+1')).toEqual([2, 3, 2]);
    expect(parseOpenzfsVersion('zfs-2.4.1')).toEqual([2, 4, 1]);
    expect(parseOpenzfsVersion('2.3')).toEqual([2, 3, 0]);
    expect(parseOpenzfsVersion('unknown')).toBeUndefined();
    expect(compareVersions([2, 10, 0], [2, 9, 9])).toBeGreaterThan(0);
    expect(kernelSeries('6.12.x')).toBe('6.12');
    expect(kernelSeries('5.14.0-570.el9.x86_64')).toBe('5.14');
  });
});
