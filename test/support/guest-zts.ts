import { runTestRunner, type TestRunnerResult } from '../../activities/zts/run-chunk.js';
import type { ReadyVm } from '../../activities/vm/lifecycle.js';
import { GUEST_RUNNER, GUEST_TEST_DIR, SshRunnerTarget } from '../../activities/vm/vm-target-provider.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../lib/log.js';

/**
 * One runfile in a clone the slow-tier tests hold themselves, through the production path: the chunk
 * code's runner (activities/zts/run-chunk.ts) on the guest's SshRunnerTarget (zfs-tests.sh around the
 * guest's test-runner.py), the results tree copied back to the same path on this host.
 */
export async function runRunfileInClone(
  vm: ReadyVm,
  runfileText: string,
  options: { outputBase: string; timeoutMs: number; log: Logger },
): Promise<TestRunnerResult & { seconds: number }> {
  const target = new SshRunnerTarget(vm.ssh, vm.disks, options.log);
  const started = performance.now();
  const out = await runTestRunner(
    { runfileText, runnerPath: GUEST_RUNNER, testDir: GUEST_TEST_DIR, outputBase: options.outputBase },
    { heartbeat: () => undefined, signal: AbortSignal.timeout(options.timeoutMs), log: options.log, target },
  );
  await target.copyBack(vm);
  return { ...out, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

/** A runfile of some tests of one group, with 2.3.9's DEFAULT section (setup, cleanup, failsafe as root). */
export function oneGroupRunfile(group: string, tests: readonly string[], timeoutSeconds = 900): string {
  return `[DEFAULT]
pre = setup
quiet = False
pre_user = root
user = root
timeout = ${timeoutSeconds}
post_user = root
post = cleanup
failsafe_user = root
failsafe = callbacks/zfs_failsafe
outputdir = /var/tmp/test_results
tags = ['functional']

[tests/${group}]
tests = [${tests.map((t) => `'${t}'`).join(', ')}]
tags = ['functional', ${group
    .split('/')
    .slice(1)
    .map((t) => `'${t}'`)
    .join(', ')}]
`;
}

/** The last lines of a test's own output as the runner kept it (copied back under `outputBase`), for a failure's message. */
export function keptTestOutput(outputBase: string, test: string, lines = 60): string {
  const found = execFileSync('find', [outputBase, '-path', `*${test}*`, '-name', 'merged'], { encoding: 'utf8' })
    .trim()
    .split('\n')[0];
  return found ? readFileSync(found, 'utf8').split('\n').slice(-lines).join('\n') : '(no output kept)';
}
