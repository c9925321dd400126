import { marked } from 'marked';
import type { Token, Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { buildMatrixReport, renderMarkdownSummary } from '../../../core/report/index.js';
import { DEMO_FLAVORS, upstreamRun } from './report-data.js';

const lists = (tokens: Token[]) => tokens.filter((t): t is Tokens.List => t.type === 'list');
const tables = (tokens: Token[]) => tokens.filter((t): t is Tokens.Table => t.type === 'table');
const texts = (cells: Tokens.TableCell[]) => cells.map((c) => c.text);
const results = (flavor: string) => DEMO_FLAVORS[flavor]!.results.filter((r) => r.kind !== 'failsafe');

const DIAGNOSES = ['functional/hang/hang_001_pos is KILLED on every flavor → a test bug, not a distro patch', 'fails on ≥2.3 only: nothing *here*'];

describe('Markdown summary', () => {
  it('renders verdict, a totals table per flavor, the non-PASS rows, diagnosis and links as GitHub tables', () => {
    const flavors = ['debian-12', 'debian-12-bpo', 'debian-13', 'debian-13-bpo'];
    const report = buildMatrixReport({
      title: 'zfslab run cap-1',
      resultsByFlavor: Object.fromEntries(flavors.map((f) => [f, DEMO_FLAVORS[f]!.results])),
      diagnoses: DIAGNOSES,
      links: [{ label: 'artifacts', url: 'http://127.0.0.1:9001/browser/zfslab-artifacts/runs/cap-1/' }],
    });
    const tokens = marked.lexer(renderMarkdownSummary(report));

    const heading = tokens.find((t): t is Tokens.Heading => t.type === 'heading');
    expect(heading).toMatchObject({ depth: 2, text: 'zfslab run cap-1: failed' });

    const [totals, matrix] = tables(tokens);
    expect(texts(totals!.header)).toEqual(['flavor', 'results', 'pass', 'unexpected fail', 'expected fail', 'flaky', 'skip', 'infra error']);
    expect(totals!.rows.map(texts)).toEqual(
      flavors.map((f) => {
        const rs = results(f);
        const n = (pred: (r: (typeof rs)[number]) => boolean) => String(rs.filter(pred).length);
        return [
          f,
          String(rs.length),
          n((r) => r.outcome === 'PASS'),
          n((r) => r.classification === 'unexpected-fail'),
          n((r) => r.classification === 'expected-fail'),
          n((r) => r.classification === 'flaky'),
          n((r) => r.outcome === 'SKIP'),
          '0',
        ];
      }),
    );

    expect(texts(matrix!.header)).toEqual(['test', ...flavors]);
    const notPassing = [
      ...new Set(
        flavors.flatMap((f) =>
          results(f)
            .filter((r) => r.outcome !== 'PASS')
            .map((r) => r.testId),
        ),
      ),
    ].sort();
    expect(matrix!.rows.map((row) => row[0]!.text)).toEqual(notPassing.map((id) => `\`${id}\``));
    expect(notPassing).toHaveLength(6);
    const hang = matrix!.rows.find((row) => row[0]!.text.includes('hang_001_pos'))!;
    expect(texts(hang.slice(1))).toEqual(['**KILLED**', '**KILLED**', '**KILLED**', '**KILLED**']);
    expect(hang[1]!.tokens[0]?.type).toBe('strong');

    const list = lists(tokens).find((l) => l.items.some((i) => i.text.includes('KILLED on every flavor')));
    expect(list?.items.map((i) => i.text.replace(/\\/g, ''))).toEqual(DIAGNOSES);
    const links = lists(tokens).find((l) => l.items.some((i) => i.text.includes('artifacts')));
    const link = links?.items[0]?.tokens.flatMap((t) => ('tokens' in t && t.tokens ? t.tokens : [])).find((t) => t.type === 'link') as Tokens.Link | undefined;
    expect(link).toMatchObject({ text: 'artifacts', href: 'http://127.0.0.1:9001/browser/zfslab-artifacts/runs/cap-1/' });
  });

  it('links known failures to their issue, keeps expected failures from failing the verdict, and truncates long matrices', () => {
    const report = buildMatrixReport({ title: 'upstream 2023-03', resultsByFlavor: { 'ubuntu-22.04': upstreamRun() } });
    const markdown = renderMarkdownSummary(report, { maxRows: 10 });
    const tokens = marked.lexer(markdown);
    expect(tokens.find((t) => t.type === 'heading')).toMatchObject({ text: 'upstream 2023-03: passed' });
    const [totals, matrix] = tables(tokens);
    expect(texts(totals!.rows[0]!)).toEqual(['ubuntu-22.04', '1637', '1599', '0', '9', '0', '29', '0']);
    expect(matrix!.rows).toHaveLength(10);
    const casenorm = matrix!.rows.find((row) => row[0]!.text === '`functional/casenorm/mixed_formd_delete`')!;
    expect(casenorm[1]!.text).toBe('FAIL (expected [#7633](https://github.com/openzfs/zfs/issues/7633))');
    const link = casenorm[1]!.tokens.find((t) => t.type === 'link') as Tokens.Link;
    expect(link).toMatchObject({ text: '#7633', href: 'https://github.com/openzfs/zfs/issues/7633' });
    expect(markdown).toContain(`…and ${9 + 29 - 10} more rows not shown.`);
    expect(tokens.find((t) => t.type === 'heading' && t.text.startsWith('Not passing'))).toMatchObject({ text: 'Not passing everywhere (38 of 1637 tests)' });
  });

  it('keeps the table shape with pipes and markup in ids, and handles a run with nothing to report', () => {
    const report = buildMatrixReport({
      title: 'odd | title',
      resultsByFlavor: {
        'a|b': [{ testId: 'functional/x|y/t_001`pos', kind: 'test', outcome: 'FAIL', classification: 'flaky', linuxSection: false, reran: true }],
        c: [
          {
            testId: 'functional/x|y/t_001`pos',
            kind: 'test',
            outcome: 'KILLED',
            classification: 'unexpected-fail',
            linuxSection: false,
            infraError: 'VM | lost',
          },
        ],
      },
    });
    const [totals, matrix] = tables(marked.lexer(renderMarkdownSummary(report)));
    expect(totals!.rows.map((r) => r.length)).toEqual([8, 8]);
    expect(texts(matrix!.header)).toEqual(['test', 'a|b', 'c']);
    expect(matrix!.rows[0]).toHaveLength(3);
    expect(matrix!.rows[0]![1]!.text).toBe('FAIL (flaky) (reran)');
    expect(matrix!.rows[0]![2]!.text).toBe('KILLED (infra: VM | lost)');

    const clean = marked.lexer(
      renderMarkdownSummary(buildMatrixReport({ title: 'green', resultsByFlavor: { d: results('debian-13').filter((r) => r.outcome === 'PASS') } })),
    );
    expect(tables(clean)).toHaveLength(1);
    expect(clean.some((t) => t.type === 'paragraph' && t.text === 'Every test passed on every flavor.')).toBe(true);
  });
});
