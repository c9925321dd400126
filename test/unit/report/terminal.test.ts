import { describe, expect, it } from 'vitest';
import { buildMatrixReport, renderTerminalMatrix } from '../../../core/report/index.js';
import type { MatrixReport } from '../../../core/report/index.js';
import { DEMO_FLAVORS, upstreamRun } from './report-data.js';

const demo = buildMatrixReport({
  title: 'zfslab run cap-1 (demo suite, five runner releases)',
  resultsByFlavor: Object.fromEntries(Object.entries(DEMO_FLAVORS).map(([f, c]) => [f, c.results])),
  diagnoses: ['fails only on debian-12-bpo-notmp → look at that flavor (the runner there breaks without TMPDIR)'],
});

const demo4 = buildMatrixReport({
  title: 'zfslab run cap-1 (demo suite, four runner releases)',
  resultsByFlavor: Object.fromEntries(['debian-12', 'debian-12-bpo', 'debian-13', 'debian-13-bpo'].map((f) => [f, DEMO_FLAVORS[f]!.results])),
  diagnoses: ['hang_001_pos is KILLED on every flavor → a test bug, not a distro patch'],
});

/** Column start offsets of a rendered table row, from the header's. */
function columnStarts(header: string): number[] {
  return [...header.matchAll(/\S+/g)].map((m) => m.index ?? 0);
}

describe('terminal matrix', () => {
  it('shows the rows where some flavor did not pass, in aligned columns', () => {
    expect(renderTerminalMatrix(demo4)).toMatchInlineSnapshot(`
      "zfslab run cap-1 (demo suite, four runner releases)

      TEST                                debian-12  debian-12-bpo  debian-13  debian-13-bpo
      ----------------------------------  ---------  -------------  ---------  -------------
      functional/demo/fail_001_neg        FAIL!      FAIL!          FAIL!      FAIL!
      functional/demo/skip_001_pos        SKIP       SKIP           SKIP       SKIP
      functional/hang/hang_001_pos        KILLED!    KILLED!        KILLED!    KILLED!
      functional/setupfail/never_001_pos  SKIP       SKIP           SKIP       SKIP
      functional/setupfail/never_002_pos  SKIP       SKIP           SKIP       SKIP
      functional/setupfail/setup          FAIL!      FAIL!          FAIL!      FAIL!

      6 of 13 tests shown (rows where every flavor passed are hidden; --all shows them).
      results: 28 pass, 12 unexpected fail, 0 expected fail, 0 flaky, 12 skip, 0 infra error
      legend: FAIL! unexpected  FAIL(known) expected  FAIL(flaky) known flaky  INFRA infrastructure error  CRASH guest kernel died  +R reran  - not run

      diagnosis:
        - hang_001_pos is KILLED on every flavor → a test bug, not a distro patch
      "
    `);
  });

  it('shows every row with `all`, each cell starting under its flavor header', () => {
    const text = renderTerminalMatrix(demo, { all: true });
    const lines = text.split('\n');
    const header = lines[2]!;
    const starts = columnStarts(header);
    expect(header.split(/\s+/)).toEqual(['TEST', ...demo.flavors]);
    const body = lines.slice(4, 4 + demo.rows.length);
    expect(body.map((l) => l.split(/\s+/)[0])).toEqual(demo.rows.map((r) => r.testId));
    for (const line of body) {
      for (const start of starts.slice(1)) {
        expect(line[start - 1]).toBe(' ');
        expect(line[start]).toMatch(/\S/);
      }
    }
    expect(text).toContain(`${demo.rows.length} of ${demo.rows.length} tests shown.`);
  });

  it('spells out every kind of cell', () => {
    const report: MatrixReport = {
      title: 'cells',
      flavors: ['f1', 'f2', 'f3'],
      rows: [
        {
          testId: 'functional/a/t_001_pos',
          cells: {
            f1: { outcome: 'PASS', classification: 'pass', reran: true },
            f2: { outcome: 'FAIL', classification: 'expected-fail', issueUrl: 'https://github.com/openzfs/zfs/issues/7633' },
          },
        },
        {
          testId: 'functional/a/t_002_pos',
          cells: {
            f1: { outcome: 'FAIL', classification: 'flaky', reran: true },
            f2: { outcome: 'KILLED', classification: 'unexpected-fail', infraError: 'VM lost' },
            f3: { outcome: 'SKIP', classification: 'skip' },
          },
        },
        {
          testId: 'functional/a/t_003_pos',
          cells: {
            f1: { outcome: 'PASS', classification: 'pass' },
            f2: { outcome: 'PASS', classification: 'pass' },
            f3: { outcome: 'PASS', classification: 'pass' },
          },
        },
      ],
      diagnoses: [],
    };
    expect(renderTerminalMatrix(report)).toMatchInlineSnapshot(`
      "cells

      TEST                    f1             f2           f3
      ----------------------  -------------  -----------  ----
      functional/a/t_001_pos  PASS+R         FAIL(known)  -
      functional/a/t_002_pos  FAIL(flaky)+R  INFRA        SKIP

      2 of 3 tests shown (rows where every flavor passed are hidden; --all shows them).
      results: 4 pass, 0 unexpected fail, 1 expected fail, 1 flaky, 1 skip, 1 infra error
      legend: FAIL! unexpected  FAIL(known) expected  FAIL(flaky) known flaky  INFRA infrastructure error  CRASH guest kernel died  +R reran  - not run
      "
    `);
  });

  it('cuts long ids from the left and says when everything passed', () => {
    const upstream = buildMatrixReport({ title: 'upstream', resultsByFlavor: { u: upstreamRun() } });
    const cut = renderTerminalMatrix(upstream, { maxTestWidth: 30 });
    expect(cut).toContain(`…${'functional/cli_root/zpool_reopen/zpool_reopen_001_pos'.slice(-29)}  SKIP`);
    expect(
      cut
        .split('\n')
        .slice(4, 42)
        .every((l) => l.indexOf(' ') <= 31),
    ).toBe(true);
    const green = buildMatrixReport({ title: 'green', resultsByFlavor: { u: upstreamRun().filter((r) => r.outcome === 'PASS') } });
    expect(renderTerminalMatrix(green).split('\n')[2]).toBe('All 1599 tests passed on every flavor.');
  });
});
