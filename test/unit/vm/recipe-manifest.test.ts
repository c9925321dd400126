import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../core/catalog/index.js';
import { parsePackageList, parseZfsVersion, versionMatchesPrefix, zfsNumericVersion } from '../../../core/vm/manifest.js';
import { canonicalJson, goldenName, goldenRecipeHash } from '../../../core/vm/recipe.js';

const debian13 = loadCatalog().get('debian13');

describe('golden recipe hash', () => {
  it('is stable for the same recipe and independent of key order', () => {
    const reversed = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
    const reordered = { ...reversed(debian13), builder: reversed(debian13.builder) };
    expect(Object.keys(reordered)[0]).not.toBe(Object.keys(debian13)[0]);
    expect(goldenRecipeHash({ flavor: reordered, lineage: 'ztest' })).toBe(goldenRecipeHash({ flavor: debian13, lineage: 'ztest' }));
    expect(goldenRecipeHash({ flavor: debian13, lineage: 'ztest' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with the lineage, the packages, the OpenZFS source', () => {
    const base = goldenRecipeHash({ flavor: debian13, lineage: 'ztest' });
    expect(goldenRecipeHash({ flavor: debian13, lineage: 'lean' })).not.toBe(base);
    const more = { ...debian13, lineages: { ...debian13.lineages, ztest: { packages: [...debian13.lineages.ztest.packages, 'strace'] } } };
    expect(goldenRecipeHash({ flavor: more, lineage: 'ztest' })).not.toBe(base);
    expect(
      goldenRecipeHash({
        flavor: debian13,
        lineage: 'ztest',
        zfsSource: { location: 'https://github.com/openzfs/zfs', branch: 'master', revision: 'abc1234' },
      }),
    ).not.toBe(base);
  });

  it('ignores the display name, notes and clone VM size', () => {
    const cosmetic = { ...debian13, name: 'renamed', notes: 'x', vm: { ...debian13.vm, memoryMiB: 8192 } };
    expect(goldenRecipeHash({ flavor: cosmetic, lineage: 'ztest' })).toBe(goldenRecipeHash({ flavor: debian13, lineage: 'ztest' }));
  });

  it('names goldens by flavor, lineage and 16 hex digits', () => {
    expect(goldenName('debian13', 'ztest', 'd7e26597236798bc' + '0'.repeat(48))).toBe('debian13-ztest-d7e26597236798bc');
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });
});

describe('manifest readings', () => {
  it('parses `zfs version` (userland and kmod lines)', () => {
    const v = parseZfsVersion('zfs-2.3.2-2\nzfs-kmod-2.3.2-2\n');
    expect(v).toEqual({ userland: 'zfs-2.3.2-2', kmod: 'zfs-kmod-2.3.2-2' });
    expect(zfsNumericVersion(v.kmod)).toBe('2.3.2');
    expect(() => parseZfsVersion('zfs-2.3.2-2\n')).toThrow(/unexpected/);
  });

  it('matches expected version prefixes component-wise', () => {
    expect(versionMatchesPrefix('2.3.9', '2.3')).toBe(true);
    expect(versionMatchesPrefix('2.30.1', '2.3')).toBe(false);
    expect(versionMatchesPrefix('2.1.11', '2.1.11')).toBe(true);
  });

  it('reads dpkg-query output', () => {
    expect(parsePackageList('zfsutils-linux\t2.3.2-2\nksh\t20240113-1\n\n')).toEqual({ 'zfsutils-linux': '2.3.2-2', ksh: '20240113-1' });
  });
});
