import { ZTS_SCRIPT } from './run-zts.js';
import { shellQuote } from '../../core/text/shell-quote.js';

/**
 * The chunk code (activities/zts/run-chunk.ts) starts test-runner.py directly:
 *   [python, <runner>, -c <runfile>, -i <testDir>, -o <outputBase>, (-T <tags>)]
 * A guest cannot run that as is: the tests need what zfs-tests.sh sets up around the runner (STF_*
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

export class UnsupportedRunnerArgv extends Error {
  override name = 'UnsupportedRunnerArgv';
}

/** test-runner.py's BASEDIR: where it makes the run's dir when not given `-o`. */
export const RUNNER_DEFAULT_BASE = '/var/tmp/test_results';

/** Guest environment variables: names only from this alphabet, so they are safe as `NAME=value` words. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function guestRunnerPlan(
  argv: readonly string[],
  options: { disks: readonly string[]; env?: Record<string, string>; zfsTestsScript?: string },
): GuestRunnerPlan {
  const [, runner, ...rest] = argv;
  if (!runner || !/test-runner(\.py)?$/.test(runner)) {
    throw new UnsupportedRunnerArgv(`a VM target runs test-runner.py only (through zfs-tests.sh); got ${JSON.stringify(argv.slice(0, 2))}`);
  }
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i]!;
    const value = rest[i + 1];
    if (!['-c', '-i', '-o', '-T'].includes(flag)) throw new UnsupportedRunnerArgv(`test-runner flag ${flag} has no zfs-tests.sh equivalent in a VM target`);
    if (value === undefined) throw new UnsupportedRunnerArgv(`test-runner flag ${flag} without a value`);
    flags.set(flag, value);
  }
  const runfile = flags.get('-c');
  const outputBase = flags.get('-o');
  if (!runfile || !outputBase) throw new UnsupportedRunnerArgv('test-runner argv without -c <runfile> or -o <outputBase>');
  const tags = flags.get('-T')?.split(',').filter(Boolean) ?? [];

  const env: Record<string, string> = { ...options.env };
  // zfs-tests.sh's DISKS: the clone's extra virtio disks (as run-zts.ts does).
  if (options.disks.length > 0) env.DISKS = options.disks.join(' ');
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new UnsupportedRunnerArgv(`not an environment variable name: ${name}`);
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
