import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { renderJUnit } from '../../../core/report/index.js';
import type { JUnitReport } from '../../../core/report/index.js';
import { projectRoot } from '../../../lib/paths.js';
import { DEMO_FLAVORS, upstreamRun } from './report-data.js';

const SCHEMAS = ['jenkins-junit.xsd', 'windyroad-JUnit.xsd'].map((name) => join(projectRoot, 'test/fixtures/junit', name));
const work = mkdtempSync(join(tmpdir(), 'zfslab-junit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function validate(xml: string, schema: string): { ok: boolean; output: string } {
  const file = join(work, `report-${++n}.xml`);
  writeFileSync(file, xml);
  const run = spawnSync('xmllint', ['--noout', '--schema', schema, file], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

const upstream = upstreamRun();
const upstreamGroups = [...new Set(upstream.map((r) => r.group))];
const reports: Record<string, JUnitReport> = {
  'the demo suite on five flavors (real captures)': {
    runId: 'cap-1',
    suites: Object.entries(DEMO_FLAVORS).map(([flavor, capture]) => ({
      flavor,
      hostname: 'lab1',
      startedAt: capture.startedAt,
      properties: { 'openzfs.version': capture.version },
      results: capture.results,
    })),
  },
  'the March 2023 upstream run in two shards, with an infra error and hostile text': {
    runId: 'upstream-2023-03',
    suites: [1, 2].map((index) => ({
      flavor: 'ubuntu-22.04',
      shard: { index, count: 2 },
      startedAt: '2023-03-10T02:00:00.123+01:00',
      results: upstream
        .filter((r) => upstreamGroups.indexOf(r.group) % 2 === index - 1)
        .map((r) =>
          r.testId === 'functional/mmp/mmp_active_import'
            ? { ...r, outcome: 'KILLED' as const, classification: 'unexpected-fail' as const, infraError: 'VM lost: <ssh> & "timeout"\u0007' }
            : r.testId === 'functional/refreserv/refreserv_004_pos'
              ? { ...r, reason: 'Known <issue> & "quoted"\nsecond line' }
              : r,
        ),
    })),
  },
};

describe('JUnit XML', () => {
  for (const [what, report] of Object.entries(reports)) {
    it(`validates against both XSDs: ${what}`, () => {
      const xml = renderJUnit(report);
      for (const schema of SCHEMAS) {
        const { ok, output } = validate(xml, schema);
        expect(ok, output).toBe(true);
      }
    });
  }

  it('the validator really rejects what the schemas forbid', () => {
    const xml = renderJUnit(reports['the demo suite on five flavors (real captures)']!);
    // Windy Road requires a hostname; both require a testcase name.
    expect(validate(xml.replace(/ hostname="[^"]*"/g, ''), SCHEMAS[1]!).ok).toBe(false);
    for (const schema of SCHEMAS) expect(validate(xml.replace(/<testcase name="[^"]*"/, '<testcase'), schema).ok).toBe(false);
  });

  it('has one testsuite per flavor or shard, classname = group, name = script, and the right children', () => {
    const report = reports['the March 2023 upstream run in two shards, with an infra error and hostile text']!;
    const parsed = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      htmlEntities: true,
      isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
    }).parse(renderJUnit(report));
    const suites = parsed.testsuites.testsuite as Record<string, unknown>[];
    expect(suites.map((s) => s.name)).toEqual(['ubuntu-22.04/shard-1-of-2', 'ubuntu-22.04/shard-2-of-2']);
    let cases = 0;
    suites.forEach((suite, i) => {
      const input = report.suites[i]!;
      const results = input.results;
      const testcases = suite.testcase as Record<string, unknown>[];
      expect(testcases).toHaveLength(results.length);
      expect(suite).toMatchObject({
        tests: String(results.length),
        failures: String(results.filter((r) => (r.outcome === 'FAIL' || r.outcome === 'KILLED') && !r.infraError).length),
        errors: String(results.filter((r) => r.infraError).length),
        skipped: String(results.filter((r) => r.outcome === 'SKIP').length),
        timestamp: '2023-03-10T01:00:00',
        hostname: 'localhost',
      });
      expect(Number(suite.time)).toBeCloseTo(
        results.reduce((s, r) => s + r.durationSeconds, 0),
        3,
      );
      results.forEach((r, j) => {
        const tc = testcases[j]!;
        expect(tc.classname).toBe(r.group);
        expect(String(tc.name).startsWith(r.testId.slice(r.testId.lastIndexOf('/') + 1))).toBe(true);
        expect(Number(tc.time)).toBeCloseTo(r.durationSeconds, 3);
        expect('skipped' in tc).toBe(r.outcome === 'SKIP');
        expect('failure' in tc).toBe((r.outcome === 'FAIL' || r.outcome === 'KILLED') && !r.infraError);
        expect('error' in tc).toBe(Boolean(r.infraError));
      });
      cases += testcases.length;
    });
    expect(cases).toBe(1637);

    const all = suites.flatMap((s) => s.testcase as Record<string, Record<string, string>>[]);
    const casenorm = all.find((tc) => (tc.name as unknown as string) === 'mixed_formd_delete');
    expect(casenorm?.failure).toMatchObject({ type: 'FAIL', message: 'FAIL: expected failure (https://github.com/openzfs/zfs/issues/7633)' });
    const rewind = all.find((tc) => (tc.name as unknown as string) === 'import_rewind_device_replaced');
    expect(rewind?.failure?.message).toBe('FAIL: expected failure (Arbitrary pool rewind is not guaranteed)');
    const refreserv = all.find((tc) => (tc.name as unknown as string) === 'refreserv_004_pos');
    expect(refreserv?.failure?.message).toBe('FAIL: expected failure (Known <issue> & "quoted"\nsecond line)');
    const mmp = all.find((tc) => (tc.name as unknown as string) === 'mmp_active_import');
    expect(mmp?.error).toMatchObject({ type: 'infra-error', message: 'infrastructure error: VM lost: <ssh> & "timeout"' });
    // The Linux section's setup of a group that has both is named apart.
    expect(all.filter((tc) => (tc.classname as unknown as string) === 'functional/atime').map((tc) => tc.name)).toEqual([
      'setup',
      'atime_001_pos',
      'atime_002_neg',
      'root_atime_off',
      'root_atime_on',
      'cleanup',
      'setup (Linux)',
      'atime_003_pos',
      'root_relatime_on',
      'cleanup (Linux)',
    ]);
  });

  it('marks KILLED as a failure and names the failsafe', () => {
    const capture = DEMO_FLAVORS['debian-13']!;
    const xml = renderJUnit({ runId: 'r', suites: [{ flavor: 'debian-13', startedAt: capture.startedAt, results: capture.results }] });
    expect(xml).toContain('<testcase name="hang_001_pos" classname="functional/hang" time="2.000">');
    expect(xml).toContain('<failure type="KILLED" message="KILLED: unexpected failure">');
    expect(xml).toMatch(/<testcase name="failsafe" classname="[^"]*\/callbacks" time="0.000"\/>/);
    expect(xml).toContain('<testcase name="linux_001_pos" classname="functional/linuxonly"');
  });
});
