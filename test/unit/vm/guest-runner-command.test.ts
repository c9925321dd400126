import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { guestRunnerPlan, UnsupportedRunnerEnv } from '../../../activities/vm/guest-runner-command.js';
import { testRunnerArgv, type RunnerInvocation } from '../../../activities/zts/runner-target.js';

// What run-chunk.ts plans for one attempt (activities/zts/run-chunk.ts).
const OUT = '/var/lib/zfslab/zts-runs/r1/debian13@h/shard-1/chunk-000/attempt-1';
const RUN: RunnerInvocation = {
  python: 'python3',
  runnerPath: '/usr/share/zfs/test-runner/bin/test-runner.py',
  runfile: `${OUT}/chunk.run`,
  testDir: '/usr/share/zfs/zfs-tests',
  outputBase: OUT,
  tags: [],
};

describe('testRunnerArgv (this host)', () => {
  it('is test-runner.py -c <runfile> -i <testDir> -o <outputBase>, -T only with tags', () => {
    expect(testRunnerArgv(RUN)).toEqual(['python3', RUN.runnerPath, '-c', `${OUT}/chunk.run`, '-i', '/usr/share/zfs/zfs-tests', '-o', OUT]);
    expect(testRunnerArgv({ ...RUN, tags: ['functional', 'perf'] }).slice(-2)).toEqual(['-T', 'functional,perf']);
  });
});

describe('guestRunnerPlan', () => {
  it('runs the planned runner as zfs-tests.sh -v -r <runfile> in the output dir, with DISKS and the env, the runner default base linked to -o', () => {
    const plan = guestRunnerPlan(RUN, { disks: ['vdb', 'vdc', 'vdd'], env: { TMPDIR: '/var/tmp', ZFSLAB_ZTS_ATTEMPT: OUT } });
    expect(plan.runfile).toBe(`${OUT}/chunk.run`);
    expect(plan.outputBase).toBe(OUT);
    expect(plan.tags).toEqual([]);
    expect(plan.command).toBe(
      `sudo -n rm -rf /var/tmp/test_results && ln -s '${OUT}' /var/tmp/test_results && sudo -n modprobe zfs && cd '${OUT}' && exec env TMPDIR='/var/tmp' ZFSLAB_ZTS_ATTEMPT='${OUT}' DISKS='vdb vdc vdd' ` +
        `'/usr/share/zfs/zfs-tests.sh' '-v' '-r' '${OUT}/chunk.run'`,
    );
  });

  it('passes -T tags on and leaves DISKS unset without disks (zfs-tests.sh then makes file vdevs)', () => {
    const plan = guestRunnerPlan({ ...RUN, tags: ['functional', 'perf'] }, { disks: [] });
    expect(plan.tags).toEqual(['functional', 'perf']);
    expect(plan.command).not.toContain('DISKS=');
    expect(plan.command.endsWith(`'-r' '${OUT}/chunk.run' '-T' 'functional,perf'`)).toBe(true);
  });

  it('quotes values a shell would otherwise split or expand', () => {
    const plan = guestRunnerPlan(RUN, { disks: [], env: { X: `a 'b' $HOME; rm -rf /` } });
    // Run the env assignment through a real shell and read the value back.
    const assignment = /env (X='.*?') '\/usr/.exec(plan.command)?.[1];
    expect(assignment).toBeDefined();
    expect(execFileSync('sh', ['-c', `${assignment}; printf %s "$X"`], { encoding: 'utf8' })).toBe(`a 'b' $HOME; rm -rf /`);
  });

  it('refuses an environment name a shell would not take as an assignment', () => {
    expect(() => guestRunnerPlan(RUN, { disks: [], env: { 'A B': 'x' } })).toThrow(UnsupportedRunnerEnv);
    expect(() => guestRunnerPlan(RUN, { disks: [], env: { 'A B': 'x' } })).toThrow(/not an environment variable name/);
  });
});
