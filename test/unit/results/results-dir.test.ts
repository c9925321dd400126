import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultLines } from '../../../core/results/result-line.js';
import { mapResultsDir } from '../../../core/results/results-dir.js';
import { projectRoot } from '../../../lib/paths.js';

const output = join(projectRoot, 'test/fixtures/zts-output');
const read = (rel: string): string => readFileSync(join(output, rel), 'utf8');

function realCase(caseDir: string): { files: string[]; ids: string[] } {
  const files = read(`${caseDir}/results-dir.files`).split('\n').filter(Boolean);
  // Test ids as the log has them: it also carries the failsafe's line.
  const ids = parseResultLines(read(`${caseDir}/stdout`)).map((r) => r.testId);
  return { files, ids };
}

describe('mapResultsDir on real result directories', () => {
  for (const [version, layout, prefix] of [
    ['2.1.11', 'flat', ''],
    ['2.3.2', 'flat', ''],
    ['2.3.9', 'output-tree', 'output/'],
    ['2.4.4', 'output-tree', 'output/'],
  ] as const) {
    it(`maps every file of the ${version} run (${layout})`, () => {
      const { files, ids } = realCase(`${version}/demo`);
      const map = mapResultsDir(files, ids);
      expect(map.layout).toBe(layout);
      expect(map.log).toBe('log');
      expect(map.unmatched).toEqual([]);
      expect(map.byTest['functional/demo/fail_001_neg']).toEqual({
        stdout: `${prefix}demo/fail_001_neg/stdout`,
        stderr: `${prefix}demo/fail_001_neg/stderr`,
        merged: `${prefix}demo/fail_001_neg/merged`,
      });
      expect(map.byTest['functional/demo/setup']).toEqual({ stdout: `${prefix}demo/setup/stdout` });
      expect(map.byTest['functional/setupfail/setup']).toEqual({ stderr: `${prefix}setupfail/setup/stderr` });
      expect(map.byTest['functional/linuxonly/linux_001_pos']).toEqual({ stdout: `${prefix}linuxonly:Linux/linux_001_pos/stdout` });
      expect(map.byTest['functional/hang/hang_001_pos']).toEqual({
        stdout: `${prefix}hang/hang_001_pos/stdout`,
        nested: { failsafe: { stdout: `${prefix}hang/hang_001_pos/failsafe/stdout` } },
      });
      // Skipped after a failed setup: the runner wrote nothing for them.
      expect(map.byTest['functional/setupfail/never_001_pos']).toBeUndefined();
      const mapped = Object.values(map.byTest).flatMap((f) => [
        ...Object.entries(f)
          .filter(([k]) => k !== 'nested')
          .map(([, v]) => v),
        ...Object.values(f.nested ?? {}).flatMap((n) => Object.values(n)),
      ]);
      expect(mapped.length + 1).toBe(files.length);
    });
  }
});

describe('mapResultsDir on upstream-shaped paths', () => {
  const ids = [
    'functional/acl/off/setup',
    'functional/acl/off/posixmode',
    'functional/acl/posix/posix_001_pos',
    'functional/cli_root/zpool_create/zpool_create_001_pos',
    'functional/cli_root/zfs_create/zfs_create_001_pos',
  ];

  it('reads the 2.3.3+ tree with the common prefix cut', () => {
    const map = mapResultsDir(
      [
        'log',
        'results',
        'output/acl/off/setup/stdout',
        'output/acl/posix:Linux/posix_001_pos/merged',
        'output/cli_root/zpool_create/zpool_create_001_pos/stderr',
        'output/cli_root/zpool_create/zpool_create_001_pos/zfs_failsafe/stdout',
        'output/stray/file.txt',
      ],
      ids,
    );
    expect(map.results).toBe('results');
    expect(map.byTest['functional/acl/off/setup']?.stdout).toBe('output/acl/off/setup/stdout');
    expect(map.byTest['functional/acl/posix/posix_001_pos']?.merged).toBe('output/acl/posix:Linux/posix_001_pos/merged');
    expect(map.byTest['functional/cli_root/zpool_create/zpool_create_001_pos']?.nested?.zfs_failsafe?.stdout).toBe(
      'output/cli_root/zpool_create/zpool_create_001_pos/zfs_failsafe/stdout',
    );
    expect(map.unmatched).toEqual(['output/stray/file.txt']);
  });

  it('reads the older flat layout of unique section suffixes', () => {
    const map = mapResultsDir(['off/posixmode/stdout', 'zpool_create/zpool_create_001_pos/stdout', 'zfs_create/zfs_create_001_pos/stdout'], ids);
    expect(map.layout).toBe('flat');
    expect(Object.keys(map.byTest).sort()).toEqual([
      'functional/acl/off/posixmode',
      'functional/cli_root/zfs_create/zfs_create_001_pos',
      'functional/cli_root/zpool_create/zpool_create_001_pos',
    ]);
  });
});
