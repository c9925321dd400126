import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { renderRunfile } from '../../../core/runfile/render.js';
import { resolveRunfiles } from '../../../core/runfile/resolve.js';
import { applyTimeouts, DEFAULT_TIMEOUT_POLICY, p95, testTimeout, validatePolicy } from '../../../core/test-run/timeouts.js';
import type { TimeoutHistory } from '../../../core/test-run/timeouts.js';

const kvm = DEFAULT_TIMEOUT_POLICY.kvm;
const tcg = DEFAULT_TIMEOUT_POLICY.tcg;
const empty: TimeoutHistory = { own: {}, reference: {} };

describe('p95', () => {
  it('takes the nearest-rank 95th percentile', () => {
    expect(p95([3])).toBe(3);
    expect(p95([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100])).toBe(19);
    expect(p95([5, 1, 100])).toBe(100);
    expect(p95([])).toBeNaN();
  });
});

describe('testTimeout', () => {
  it('uses this flavor’s own history first: k × p95, clamped', () => {
    // Real TCG durations of zpool_002_pos in four runs (docs/vm-timings.md).
    const history: TimeoutHistory = {
      own: { 'functional/cli_root/zpool/zpool_002_pos': [65, 140, 117, 134] },
      reference: { 'functional/cli_root/zpool/zpool_002_pos': 4 },
    };
    expect(testTimeout('functional/cli_root/zpool/zpool_002_pos', 600, history, tcg)).toEqual({
      testId: 'functional/cli_root/zpool/zpool_002_pos',
      seconds: 1400,
      basis: 'own',
    });
  });

  it('scales the reference table by the speed factor when the host has no history', () => {
    const history: TimeoutHistory = { own: {}, reference: { 'functional/raidz/raidz_002_pos': 303, 'functional/cli_root/zpool/setup': 0 } };
    expect(testTimeout('functional/raidz/raidz_002_pos', 1200, history, kvm).seconds).toBe(3030);
    expect(testTimeout('functional/raidz/raidz_002_pos', 1200, history, tcg)).toMatchObject({ seconds: tcg.ceilingSeconds, basis: 'reference' });
    expect(testTimeout('functional/cli_root/zpool/setup', 600, history, kvm)).toMatchObject({ seconds: kvm.floorSeconds, basis: 'reference' });
  });

  it('falls back to the runfile’s timeout times the speed factor', () => {
    expect(testTimeout('functional/x/y', 600, empty, kvm)).toEqual({ testId: 'functional/x/y', seconds: 600, basis: 'runfile' });
    expect(testTimeout('functional/x/y', 600, empty, tcg).seconds).toBe(12000);
  });

  it('refuses a policy that cannot bound anything', () => {
    expect(() => validatePolicy({ ...kvm, floorSeconds: 10, ceilingSeconds: 5 })).toThrow(/floor 10 s is above the ceiling 5 s/);
    expect(() => validatePolicy({ ...kvm, multiplier: 0 })).toThrow(/multiplier must be a positive number/);
  });
});

describe('applyTimeouts', () => {
  const text = readFileSync(join(import.meta.dirname, '../../fixtures/runfiles/master-be7657e/common.run'), 'utf8');
  const doc = parseRunfile(text, 'common.run');

  it('writes each section the largest bound among its scripts, setup and cleanup included', () => {
    const section = resolveRunfiles([doc]).sections.find((s) => s.groupId === 'functional/cli_root/zpool');
    expect(section).toBeDefined();
    const history: TimeoutHistory = {
      own: { 'functional/cli_root/zpool/zpool_002_pos': [65, 140, 117, 134], 'functional/cli_root/zpool/setup': [24, 42, 27, 28] },
      reference: {},
    };
    const applied = applyTimeouts(doc, history, { ...tcg, ceilingSeconds: 1000 });
    expect(applied.sections[section!.section]).toBe(1000);
    const reread = resolveRunfiles([parseRunfile(renderRunfile(applied.doc), 'out.run')]).sections.find((s) => s.section === section!.section);
    expect(reread?.timeoutSeconds).toBe(1000);
    expect(applied.tests.find((t) => t.testId === 'functional/cli_root/zpool/zpool_002_pos')).toMatchObject({ seconds: 1000, basis: 'own' });
  });

  it('leaves the runfile as it was when every bound equals its timeout', () => {
    const same = applyTimeouts(doc, empty, { multiplier: 1, floorSeconds: 1, ceilingSeconds: 100000, speedFactor: 1 });
    expect(renderRunfile(same.doc)).toBe(renderRunfile(doc));
  });
});
