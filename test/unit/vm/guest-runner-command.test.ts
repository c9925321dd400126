import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { guestRunnerPlan, UnsupportedRunnerArgv } from '../../../activities/vm/guest-runner-command.js';

// The argv run-chunk.ts builds (activities/zts/run-chunk.ts): python, runner, -c, -i, -o (and -T).
const OUT = '/var/lib/zfslab/zts-runs/r1/debian13@h/shard-1/chunk-000/attempt-1';
const ARGV = ['python3', '/usr/share/zfs/test-runner/bin/test-runner.py', '-c', `${OUT}/chunk.run`, '-i', '/usr/share/zfs/zfs-tests', '-o', OUT];

describe('guestRunnerPlan', () => {
  it('maps the runner argv to zfs-tests.sh -v -r <runfile> in the output dir, with DISKS and the env, the runner default base linked to -o', () => {
    const plan = guestRunnerPlan(ARGV, { disks: ['vdb', 'vdc', 'vdd'], env: { TMPDIR: '/var/tmp', ZFSLAB_ZTS_ATTEMPT: OUT } });
    expect(plan.runfile).toBe(`${OUT}/chunk.run`);
    expect(plan.outputBase).toBe(OUT);
    expect(plan.tags).toEqual([]);
    expect(plan.command).toBe(
      `sudo -n rm -rf /var/tmp/test_results && ln -s '${OUT}' /var/tmp/test_results && sudo -n modprobe zfs && cd '${OUT}' && exec env TMPDIR='/var/tmp' ZFSLAB_ZTS_ATTEMPT='${OUT}' DISKS='vdb vdc vdd' ` +
        `'/usr/share/zfs/zfs-tests.sh' '-v' '-r' '${OUT}/chunk.run'`,
    );
  });

  it('passes -T tags on and leaves DISKS unset without disks (zfs-tests.sh then makes file vdevs)', () => {
    const plan = guestRunnerPlan([...ARGV, '-T', 'functional,perf'], { disks: [] });
    expect(plan.tags).toEqual(['functional', 'perf']);
    expect(plan.command).not.toContain('DISKS=');
    expect(plan.command.endsWith(`'-r' '${OUT}/chunk.run' '-T' 'functional,perf'`)).toBe(true);
  });

  it('quotes values a shell would otherwise split or expand', () => {
    const plan = guestRunnerPlan(ARGV, { disks: [], env: { X: `a 'b' $HOME; rm -rf /` } });
    // Run the env assignment through a real shell and read the value back.
    const assignment = /env (X='.*?') '\/usr/.exec(plan.command)?.[1];
    expect(assignment).toBeDefined();
    expect(execFileSync('sh', ['-c', `${assignment}; printf %s "$X"`], { encoding: 'utf8' })).toBe(`a 'b' $HOME; rm -rf /`);
  });

  it('refuses what it cannot map', () => {
    expect(() => guestRunnerPlan(['sh', '-c', 'true'], { disks: [] })).toThrow(UnsupportedRunnerArgv);
    expect(() => guestRunnerPlan([...ARGV, '-q'], { disks: [] })).toThrow(/-q has no zfs-tests.sh equivalent/);
    expect(() => guestRunnerPlan(ARGV.slice(0, 6), { disks: [] })).toThrow(/-o <outputBase>/);
    expect(() => guestRunnerPlan([...ARGV, '-T'], { disks: [] })).toThrow(/without a value/);
    expect(() => guestRunnerPlan(ARGV, { disks: [], env: { 'A B': 'x' } })).toThrow(/not an environment variable name/);
  });
});
