import { describe, expect, it } from 'vitest';
import { diagnoseMatrix } from '../../../core/matrix/diagnose.js';
import { buildMatrix } from '../../../core/matrix/matrix.js';
import { renderMarkdownSummary, renderTerminalMatrix, reportFromMatrix } from '../../../core/report/index.js';
import { attributeFailsafes } from '../../../lib/store/index.js';
import { DEMO_FLAVORS } from './report-data.js';

describe('reportFromMatrix', () => {
  it("renders core/matrix's model of the real captures, with its diagnosis", () => {
    const versions: Record<string, string> = { 'debian-12': '2.1.11', 'debian-12-bpo': '2.3.2', 'debian-13': '2.3.9', 'debian-13-bpo': '2.4.4' };
    const matrix = buildMatrix(
      Object.entries(versions).map(([id, version]) => ({
        flavor: {
          id,
          os: 'debian',
          release: id.slice(7, 9),
          kernel: id.startsWith('debian-12') ? '6.1.0-18-amd64' : '6.12.48+deb13-amd64',
          openzfsVersion: version,
        },
        results: DEMO_FLAVORS[id]!.results,
      })),
    );
    const diagnoses = diagnoseMatrix(matrix);
    const report = reportFromMatrix(matrix, diagnoses, { title: 'zfslab run cap-1' });
    expect(report.flavors).toEqual(Object.keys(versions));
    expect(report.rows.some((r) => r.testId.includes('callbacks'))).toBe(false);
    expect(report.diagnoses).toHaveLength(diagnoses.length);
    expect(diagnoses.length).toBeGreaterThan(0);
    expect(report.diagnoses[0]).toBe(`${diagnoses[0]!.testId}: ${diagnoses[0]!.explanation}`);
    const hang = report.rows.find((r) => r.testId === 'functional/hang/hang_001_pos');
    expect(Object.values(hang!.cells).map((c) => c.outcome)).toEqual(['KILLED', 'KILLED', 'KILLED', 'KILLED']);
    const terminal = renderTerminalMatrix(report);
    expect(terminal).toContain('functional/hang/hang_001_pos        KILLED!    KILLED!        KILLED!    KILLED!');
    for (const line of report.diagnoses) expect(terminal).toContain(`  - ${line}`);
    expect(renderMarkdownSummary(report)).toContain('### Diagnosis');
  });

  it('keeps a killed test whose failsafe the store keys by the same test id (the failsafe comes first)', () => {
    const results = attributeFailsafes(DEMO_FLAVORS['debian-13']!.results);
    const failsafe = results.findIndex((r) => r.kind === 'failsafe');
    const killed = results.findIndex((r) => r.testId === 'functional/hang/hang_001_pos' && r.kind === 'test');
    expect(results[failsafe]!.testId).toBe('functional/hang/hang_001_pos');
    expect(failsafe).toBeLessThan(killed);
    const matrix = buildMatrix([{ flavor: { id: 'debian-13', os: 'debian', release: '13', kernel: '6.12.48+deb13-amd64', openzfsVersion: '2.3.9' }, results }]);
    const report = reportFromMatrix(matrix, diagnoseMatrix(matrix), { title: 'store view' });
    expect(report.rows.find((r) => r.testId === 'functional/hang/hang_001_pos')?.cells['debian-13']?.outcome).toBe('KILLED');
  });
});
