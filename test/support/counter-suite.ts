import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A small real suite for the real test-runner.py: `groups` groups of `perGroup` tests laid out like
 * the OpenZFS suite (`tests/functional/<group>/<test>.sh`, a group `setup` and `cleanup`). Every
 * script appends its own name to `invocations.log` before doing anything else, so a test can count
 * exactly how often each ran (the runner's own output cannot tell a re-run from a first run).
 * Tests sleep `sleepSeconds`; those named in `failing` exit 1, in `flaky` exit 1 the first time only.
 */
export interface CounterSuite {
  dir: string;
  runfile: string;
  invocationsLog: string;
  testIds: string[];
  groups: string[];
}

export function makeCounterSuite(
  dir: string,
  options: {
    groups?: number;
    perGroup?: number;
    sleepSeconds?: number;
    failing?: readonly string[];
    /** Tests that fail the first time they run and pass after (counted in the invocations log). */
    flaky?: readonly string[];
    timeoutSeconds?: number;
  } = {},
): CounterSuite {
  const groups = Array.from({ length: options.groups ?? 4 }, (_, g) => `counter_${String.fromCharCode(97 + g)}`);
  const perGroup = options.perGroup ?? 10;
  const sleep = options.sleepSeconds ?? 0.4;
  const failing = new Set(options.failing ?? []);
  const flaky = new Set(options.flaky ?? []);
  const invocationsLog = join(dir, 'invocations.log');
  const testIds: string[] = [];
  const sections: string[] = [];
  for (const group of groups) {
    const groupDir = join(dir, 'tests', 'functional', group);
    mkdirSync(groupDir, { recursive: true });
    const names = Array.from({ length: perGroup }, (_, i) => `${group.slice(-1)}${String(i + 1).padStart(2, '0')}_pos`);
    script(join(groupDir, 'setup.sh'), `${group}/setup`, invocationsLog, 0, 0);
    script(join(groupDir, 'cleanup.sh'), `${group}/cleanup`, invocationsLog, 0, 0);
    for (const name of names) {
      const firstTimeOnly = `$(test "$(grep -cx '${group}/${name}' ${invocationsLog})" -eq 1 && echo 1 || echo 0)`;
      script(join(groupDir, `${name}.sh`), `${group}/${name}`, invocationsLog, sleep, failing.has(name) ? 1 : flaky.has(name) ? firstTimeOnly : 0);
      testIds.push(`functional/${group}/${name}`);
    }
    sections.push(`[tests/functional/${group}]`, `tests = [${names.map((n) => `'${n}'`).join(', ')}]`, `tags = ['functional', '${group}']`, '');
  }
  const runfile = join(dir, 'counter.run');
  writeFileSync(
    runfile,
    [
      '# A counter suite for zfslab tests (test/support/counter-suite.ts): real scripts for the real runner.',
      '[DEFAULT]',
      'pre = setup',
      'quiet = False',
      'pre_user = root',
      'user = root',
      `timeout = ${options.timeoutSeconds ?? 30}`,
      'post_user = root',
      'post = cleanup',
      'outputdir = /var/tmp/test_results',
      "tags = ['functional']",
      '',
      ...sections,
    ].join('\n'),
  );
  return { dir, runfile, invocationsLog, testIds, groups };
}

function script(path: string, name: string, log: string, sleepSeconds: number, exitCode: number | string): void {
  writeFileSync(path, `#!/bin/sh\necho ${name} >> ${log}\n${sleepSeconds > 0 ? `sleep ${sleepSeconds}\n` : ''}exit ${exitCode}\n`);
  chmodSync(path, 0o755);
}

/** How often each script ran, from the log the scripts write. */
export function invocations(suite: CounterSuite): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(suite.invocationsLog)) return counts;
  for (const line of readFileSync(suite.invocationsLog, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    counts.set(line.trim(), (counts.get(line.trim()) ?? 0) + 1);
  }
  return counts;
}
