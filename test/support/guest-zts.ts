import { runTestRunner, type TestRunnerResult } from '../../activities/zts/run-chunk.js';
import type { ReadyVm } from '../../activities/vm/lifecycle.js';
import { GUEST_RUNNER, GUEST_TEST_DIR, SshRunnerTarget } from '../../activities/vm/vm-target-provider.js';
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
