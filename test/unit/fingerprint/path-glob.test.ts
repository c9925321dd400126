import { describe, expect, it } from 'vitest';
import {
  collapsePatterns,
  componentPattern,
  globToRegExp,
  isCoveredBy,
  mergeDigitSiblings,
  pathPattern,
  resolvePath,
} from '../../../core/fingerprint/path-glob.js';

describe('path patterns', () => {
  it('resolves relative paths against the cwd and normalises', () => {
    expect(resolvePath('b/../c.txt', '/a')).toBe('/a/c.txt');
    expect(resolvePath('/x//y/./z', '/a')).toBe('/x/y/z');
    expect(resolvePath('rel', undefined)).toBe('./rel');
  });

  it('replaces what changes between runs and keeps what does not', () => {
    expect(componentPattern('12345')).toBe('*'); // a pid
    expect(componentPattern('20260506T140000')).toBe('*T*'); // a results timestamp
    expect(componentPattern('tmp.AbX9kQ2mZp')).toBe('tmp.*'); // mktemp
    expect(componentPattern('zfslab-fingerprint.x7Gq2B')).toBe('zfslab-fingerprint.*');
    expect(componentPattern('3fa85f64-5717-4562-b3fc-2c963f66afa6.json')).toBe('*.json');
    expect(componentPattern('x86_64-linux-gnu')).toBe('x86_64-linux-gnu');
    expect(componentPattern('python3.11')).toBe('python3.11');
    expect(componentPattern('disk1.img')).toBe('disk1.img');
    expect(componentPattern('sha256sum')).toBe('sha256sum');
    expect(pathPattern('/proc/4242/status')).toBe('/proc/*/status');
    expect(pathPattern('/var/tmp/a-very-long-name-cut-her', true)).toBe('/var/tmp/a-very-long-name-cut-her*');
  });

  it('merges siblings that differ only in digits, not lone names', () => {
    const merged = mergeDigitSiblings([
      '/var/tmp/zfs-test-vdevs/disk1.img',
      '/var/tmp/zfs-test-vdevs/disk2.img',
      '/var/tmp/zfs-test-vdevs/disk3.img',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/run/user1/a',
      '/run/user2/b',
    ]);
    expect([...merged].sort()).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/run/user*/a', '/run/user*/b', '/var/tmp/zfs-test-vdevs/disk*.img']);
  });

  it('collapses crowded directories to dir/** and bounds the set', () => {
    const many = Array.from({ length: 40 }, (_, i) => `/var/tmp/test_results/*T*/output/group${String.fromCharCode(97 + (i % 26))}${i > 25 ? 'x' : ''}/log`);
    const collapsed = collapsePatterns([...many, '/etc/hostname'], { maxChildren: 16, maxPatterns: 200 });
    expect(collapsed).toEqual(['/etc/hostname', '/var/tmp/test_results/*T*/output/**']);
    const bounded = collapsePatterns(
      Array.from({ length: 500 }, (_, i) => `/d${String.fromCharCode(97 + (i % 26))}/e${String.fromCharCode(97 + ((i / 26) | 0))}/f`),
      { maxChildren: 1000, maxPatterns: 50 },
    );
    expect(bounded.length).toBeLessThanOrEqual(50);
  });

  it('globs: * within a component, ** across', () => {
    expect(globToRegExp('/a/*.log').test('/a/x.log')).toBe(true);
    expect(globToRegExp('/a/*.log').test('/a/b/x.log')).toBe(false);
    expect(globToRegExp('/a/**').test('/a/b/c/x.log')).toBe(true);
    expect(isCoveredBy('/a/x*.log', ['/a/**'])).toBe(true);
    expect(isCoveredBy('/a/b/**', ['/a/**'])).toBe(true);
    expect(isCoveredBy('/a/**', ['/a/x*.log'])).toBe(false);
    expect(isCoveredBy('/etc/shadow', ['/etc/hostname', '/var/**'])).toBe(false);
  });
});
