import { describe, expect, it } from 'vitest';
import { classify, baselineKey } from '../../../core/baselines/classify.js';
import { baselineFor, parseBaseline, seriesOf, shippedSeries } from '../../../core/baselines/index.js';
import type { TestResult } from '../../../core/results/types.js';
import zts23 from '../../../core/baselines/zts-2.3.json' with { type: 'json' };

function result(testId: string, outcome: TestResult['outcome'], kind: TestResult['kind'] = 'test'): TestResult {
  return {
    testId,
    group: testId.slice(0, testId.lastIndexOf('/')),
    kind,
    outcome,
    reran: false,
    durationSeconds: 1,
    user: 'root',
    linuxSection: false,
  };
}

describe('baseline data', () => {
  it('ships one valid baseline per series 2.1-2.4, each naming its upstream tag and commit', () => {
    expect(shippedSeries()).toEqual(['2.1', '2.2', '2.3', '2.4']);
    for (const series of shippedSeries()) {
      const baseline = baselineFor(`${series}.0`)!;
      expect(baseline.series).toBe(series);
      expect(baseline.origin.tag).toMatch(new RegExp(`^zfs-${series.replace('.', '\\.')}\\.\\d+$`));
      expect(baseline.entries.length).toBeGreaterThan(90);
    }
  });

  it('holds entries as upstream zts-report.py.in at zfs-2.3.9 has them', () => {
    const b = baselineFor('2.3.9')!;
    const find = (test: string, list: string) => b.entries.filter((e) => e.test === test && e.list === list);
    expect(find('casenorm/mixed_none_lookup_ci', 'known')).toEqual([
      { test: 'casenorm/mixed_none_lookup_ci', list: 'known', expect: 'FAIL', issue: 7633, platforms: ['linux', 'freebsd'] },
    ]);
    expect(find('cli_root/zpool_iostat/zpool_iostat_interval_all', 'maybe')[0]).toMatchObject({ expect: 'FAIL', issue: 18273 });
    expect(find('trim/setup', 'maybe')[0]).toMatchObject({ expect: 'SKIP', reason: 'DISKS must support discard (TRIM/UNMAP)' });
    expect(find('rsend/send_raw_ashift', 'known')[0]).toMatchObject({ expect: 'SKIP', issue: 14961, platforms: ['freebsd'] });
  });

  it('rejects malformed data', () => {
    const broken = structuredClone(zts23) as { entries: Record<string, unknown>[] };
    broken.entries[0] = { ...broken.entries[0], expect: 'KILLED' };
    expect(() => parseBaseline(broken)).toThrow();
    const noWhy = structuredClone(zts23) as { entries: Record<string, unknown>[] };
    noWhy.entries[0] = { test: 'a/b', list: 'known', expect: 'FAIL', platforms: ['linux'] };
    expect(() => parseBaseline(noWhy)).toThrow(/issue or a reason/);
    expect(() => parseBaseline(JSON.stringify(zts23))).not.toThrow();
  });
});

describe('seriesOf / baselineFor', () => {
  it('reads the series from the version strings tools and packages print', () => {
    expect(seriesOf('2.3.9')).toBe('2.3');
    expect(seriesOf('zfs-2.1.11-1')).toBe('2.1');
    expect(seriesOf('2.3.2-2~bpo12+2')).toBe('2.3');
    expect(seriesOf('zfs-kmod-2.2.4-1')).toBe('2.2');
    expect(seriesOf('2.4.99-1_g1234abc')).toBe('2.4');
    expect(seriesOf('unknown')).toBeUndefined();
    expect(baselineFor('zfs-2.1.11-1')?.series).toBe('2.1');
    expect(baselineFor('2.0.7')).toBeUndefined();
  });
});

describe('classify', () => {
  const b23 = baselineFor('2.3.9');

  it('classifies like zts-report: pass, skip, expected, flaky, unexpected', () => {
    const out = classify(
      [
        result('functional/acl/off/posixmode', 'PASS'),
        result('functional/casenorm/mixed_formd_lookup', 'FAIL'),
        result('functional/cli_root/zpool_iostat/zpool_iostat_interval_all', 'FAIL'),
        result('functional/refreserv/refreserv_004_pos', 'FAIL'),
        result('functional/acl/off/dosmode', 'FAIL'),
        result('functional/trim/setup', 'SKIP', 'setup'),
        result('functional/trim/trim_config', 'SKIP'),
        result('functional/acl/off/other', 'SKIP'),
      ],
      b23,
    );
    expect(out.map((r) => [r.testId, r.classification, r.issueUrl, r.reason])).toEqual([
      ['functional/acl/off/posixmode', 'pass', undefined, undefined],
      ['functional/casenorm/mixed_formd_lookup', 'expected-fail', 'https://github.com/openzfs/zfs/issues/7633', undefined],
      ['functional/cli_root/zpool_iostat/zpool_iostat_interval_all', 'flaky', 'https://github.com/openzfs/zfs/issues/18273', undefined],
      ['functional/refreserv/refreserv_004_pos', 'expected-fail', undefined, 'Known issue'],
      ['functional/acl/off/dosmode', 'unexpected-fail', undefined, undefined],
      ['functional/trim/setup', 'skip', undefined, 'DISKS must support discard (TRIM/UNMAP)'],
      ['functional/trim/trim_config', 'skip', undefined, 'DISKS must support discard (TRIM/UNMAP)'],
      ['functional/acl/off/other', 'skip', undefined, undefined],
    ]);
  });

  it('does not excuse a KILLED test whose entry expects FAIL, nor a FAIL whose entry expects SKIP', () => {
    const out = classify([result('functional/casenorm/mixed_formd_lookup', 'KILLED'), result('functional/cli_root/zfs_get/zfs_get_009_pos', 'FAIL')], b23);
    expect(out.map((r) => r.classification)).toEqual(['unexpected-fail', 'unexpected-fail']);
  });

  it('applies platform-specific entries only on their platform', () => {
    const freebsdOnly = result('functional/cli_root/zfs_receive/receive-o-x_props_override', 'FAIL');
    expect(classify([freebsdOnly], b23)[0]?.classification).toBe('unexpected-fail');
    expect(classify([freebsdOnly], b23, 'freebsd')[0]?.classification).toBe('expected-fail');
    const linuxOnly = result('functional/casenorm/mixed_formd_lookup', 'FAIL');
    expect(classify([linuxOnly], b23, 'freebsd')[0]?.classification).toBe('unexpected-fail');
  });

  it('without a baseline every failure is unexpected', () => {
    expect(classify([result('functional/casenorm/mixed_formd_lookup', 'FAIL')], undefined)[0]?.classification).toBe('unexpected-fail');
  });

  it('keys tests as zts-report does', () => {
    expect(baselineKey('functional/cli_root/zpool_add/zpool_add_004_pos')).toBe('cli_root/zpool_add/zpool_add_004_pos');
    expect(baselineKey('perf/regression/random_reads')).toBe('random_reads');
  });
});
