import { shellQuote } from '../../core/text/shell-quote.js';
import type { RunnerInvocation } from '../zts/runner-target.js';

/** Where the zfs-test package installs zfs-tests.sh in every golden. */
export const ZTS_SCRIPT = '/usr/share/zfs/zfs-tests.sh';

/**
 * The chunk code (activities/zts/run-chunk.ts) plans one test-runner.py run (RunnerInvocation); on
 * this host that is test-runner.py itself. A guest cannot run it that way: the tests need what zfs-tests.sh sets up around the runner (STF_*
 * variables, the constrained PATH, DISKS, refusing root, `sudo -E` for the tests). So in a VM clone the
 * same request becomes `zfs-tests.sh -v -r <runfile> (-T <tags>)` as the test user: zfs-tests.sh runs
 * the same runner on the same runfile (whose `outputdir` the chunk code already set to `-o`), and the
 * runner's result lines reach stdout unchanged (zfs-tests.sh tees them). `-i` is dropped on purpose:
 * zfs-tests.sh passes its own STF_SUITE, which is the guest's installed suite.
 *
 * `-o` is dropped too, because zfs-tests.sh has no way to pass it, and that matters: test-runner.py
 * (2.1 to 2.4) makes `<-o or /var/tmp/test_results>/<timestamp>` before it reads the runfile, then
 * switches to the runfile's `outputdir` and chdirs into `<outputdir>/<timestamp>`, which nobody made
 * ("Could not change to directory …", no result line at all). So in the disposable clone the runner's
 * default base is made a symlink to the attempt's output dir: both paths name one directory.
 */
export interface GuestRunnerPlan {
  /** The shell command line to run in the guest (through SshExecutor.exec). */
  command: string;
  /** The runfile the chunk code uploaded (`-c`). */
  runfile: string;
  /** `-o`: where the runner writes its timestamped results dir; copied back to the same host path. */
  outputBase: string;
  tags: string[];
}

export class UnsupportedRunnerEnv extends Error {
  override name = 'UnsupportedRunnerEnv';
}

/** test-runner.py's BASEDIR: where it makes the run's dir when not given `-o`. */
export const RUNNER_DEFAULT_BASE = '/var/tmp/test_results';

/** Guest environment variables: names only from this alphabet, so they are safe as `NAME=value` words. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function guestRunnerPlan(
  invocation: RunnerInvocation,
  options: { disks: readonly string[]; env?: Record<string, string>; zfsTestsScript?: string },
): GuestRunnerPlan {
  const { runfile, outputBase } = invocation;
  const tags = [...invocation.tags];
  const env: Record<string, string> = { ...options.env };
  // zfs-tests.sh's DISKS: the clone's extra virtio disks.
  if (options.disks.length > 0) env.DISKS = options.disks.join(' ');
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new UnsupportedRunnerEnv(`not an environment variable name: ${name}`);
    return `${name}=${shellQuote(value)}`;
  });
  const args = ['-v', '-r', runfile, ...(tags.length > 0 ? ['-T', tags.join(',')] : [])];
  const script = options.zfsTestsScript ?? ZTS_SCRIPT;
  const command = [
    `sudo -n rm -rf ${RUNNER_DEFAULT_BASE}`,
    `ln -s ${shellQuote(outputBase)} ${RUNNER_DEFAULT_BASE}`,
    'sudo -n modprobe zfs',
    `cd ${shellQuote(outputBase)}`,
    `exec env ${[...assignments, shellQuote(script), ...args.map(shellQuote)].join(' ')}`,
  ].join(' && ');
  return { command, runfile, outputBase, tags };
}
