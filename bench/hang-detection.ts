/**
 * From a hang to its detection: the same hung test under the runfile's fixed timeout (upstream's)
 * and under zfslab's timeout rule (core/test-run/timeouts.ts) for a KVM host and for a TCG host,
 * side by side in one invocation. Each case runs the real test-runner.py (Debian's zfs-test, unpacked
 * in .tools/zts) over a copy of the test whose script hangs (`exec sleep`), with the section timeout
 * the case gives it, and measures from the moment the runner reports the test started (its group's
 * setup finished) to its KILLED result line. The three cases run at once (they only sleep).
 *
 *   npx tsc -p . && node dist/bench/hang-detection.js [--test functional/cli_root/zpool_create/zpool_create_001_pos] [--own 41,44 [--own-speed tcg]]
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { shippedHistory } from '../activities/test-runs/durations.js';
import { LocalRunnerTarget } from '../activities/zts/local-target.js';
import { runTestRunner } from '../activities/zts/run-chunk.js';
import { ensureZtsRunner } from '../activities/zts/zts-runner.js';
import { parseRunfile } from '../core/runfile/parse.js';
import { resolveRunfiles } from '../core/runfile/resolve.js';
import { DEFAULT_TIMEOUT_POLICY, testTimeout, type SpeedClass } from '../core/test-run/timeouts.js';
import { createLogger } from '../lib/log.js';
import { projectRoot } from '../lib/paths.js';

const { values } = parseArgs({
  options: {
    test: { type: 'string', default: 'functional/cli_root/zpool_create/zpool_create_001_pos' },
    runfile: { type: 'string', default: join(projectRoot, 'test/fixtures/runfiles/zfs-2.3.9/common.run') },
    /** Measured running times of the test on this host's accelerator (comma-separated seconds): the rule's `own` basis. */
    own: { type: 'string' },
    'own-speed': { type: 'string', default: 'tcg' },
  },
});
const own = values.own ? values.own.split(',').map(Number) : undefined;
if (own?.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`--own: comma-separated seconds, got ${values.own}`);
const testId = values.test!;
const group = testId.slice(0, testId.lastIndexOf('/'));
const name = testId.slice(testId.lastIndexOf('/') + 1);
const log = createLogger('bench-hang', 'warn');

// The fixed timeout: what the upstream runfile gives the test's section.
const section = resolveRunfiles([parseRunfile(readFileSync(values.runfile!, 'utf8'), 'common.run')]).sections.find((s) => s.testIds.includes(testId));
if (!section) throw new Error(`${testId} is in no section of ${values.runfile}`);
const reference = shippedHistory();
const cases: { label: string; seconds: number; why: string }[] = [
  { label: 'fixed (runfile)', seconds: section.timeoutSeconds, why: `${section.section} in ${values.runfile}` },
];
for (const speed of ['kvm', 'tcg'] as SpeedClass[]) {
  const policy = DEFAULT_TIMEOUT_POLICY[speed];
  const bound = testTimeout(testId, section.timeoutSeconds, { own: {}, reference }, policy);
  cases.push({
    label: `zfslab rule, ${speed}`,
    seconds: bound.seconds,
    why: `basis ${bound.basis}: clamp(${policy.multiplier} × ${reference[testId] ?? '?'} s × speed ${policy.speedFactor}, ${policy.floorSeconds}, ${policy.ceilingSeconds})`,
  });
}

if (own) {
  const speed = values['own-speed'] as SpeedClass;
  const policy = DEFAULT_TIMEOUT_POLICY[speed];
  const bound = testTimeout(testId, section.timeoutSeconds, { own: { [testId]: own }, reference }, policy);
  cases.push({
    label: `zfslab rule, ${speed} own`,
    seconds: bound.seconds,
    why: `basis ${bound.basis}: clamp(${policy.multiplier} × p95 of ${own.join(', ')} s, ${policy.floorSeconds}, ${policy.ceilingSeconds})`,
  });
}

const work = mkdtempSync(join(tmpdir(), 'zfslab-bench-hang-'));
// A suite holding only the hung copy of the test, with its group's setup and cleanup.
// Sections name `tests/<group>` below the runner's `-i`.
const dir = join(work, 'suite', 'tests', group);
mkdirSync(dir, { recursive: true });
const script = (file: string, body: string): void => {
  writeFileSync(join(dir, file), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, file), 0o755);
};
script('setup.sh', 'exit 0');
script('cleanup.sh', 'exit 0');
script(`${name}.sh`, `echo "${name}: hung"\nexec sleep 100000`);

const runner = await ensureZtsRunner({ toolsDir: join(projectRoot, '.tools'), log });
const results = await Promise.all(
  cases.map(async (c, index) => {
    const outputBase = join(work, `out-${index}`);
    const tmp = join(work, `tmp-${index}`);
    mkdirSync(tmp, { recursive: true });
    const runfileText = `[DEFAULT]\npre = setup\nquiet = False\npre_user = root\nuser = root\ntimeout = ${c.seconds}\npost_user = root\npost = cleanup\noutputdir = ${outputBase}\n\n[tests/${group}]\ntests = ['${name}']\n`;
    let startedAt: number | undefined;
    let killedAt: number | undefined;
    const out = await runTestRunner(
      { runfileText, runnerPath: runner.runnerPath, testDir: join(work, 'suite'), outputBase, tmpDir: tmp },
      {
        heartbeat: (beat) => {
          if (beat.current === testId) startedAt ??= Date.now();
          if (beat.finished.some((r) => r.testId === testId)) killedAt ??= Date.now();
        },
        signal: new AbortController().signal,
        log,
        target: new LocalRunnerTarget({ killGraceMs: 2_000 }),
      },
    );
    const result = out.results.find((r) => r.testId === testId);
    if (!result) throw new Error(`${c.label}: the runner reported no result for ${testId} (${out.infraError ?? out.stderrTail.slice(-400)})`);
    return { ...c, outcome: result.outcome, detectedAfter: startedAt && killedAt ? (killedAt - startedAt) / 1000 : Number.NaN };
  }),
);
rmSync(work, { recursive: true, force: true });

const fixed = results[0]!.detectedAfter;
process.stdout.write(`hang-to-detection for ${testId} (zfs-test ${runner.packageVersion} test-runner.py; reference ${reference[testId] ?? '?'} s on KVM)\n`);
for (const r of results) {
  process.stdout.write(
    `${r.label.padEnd(18)} timeout ${String(r.seconds).padStart(5)} s  detected after ${r.detectedAfter.toFixed(1).padStart(7)} s  ${r.outcome}  ` +
      `${(fixed / r.detectedAfter).toFixed(2)}× sooner than fixed   (${r.why})\n`,
  );
}
