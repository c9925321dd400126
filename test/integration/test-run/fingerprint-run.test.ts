import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import type { DetectionReport } from '../../../core/fingerprint/detect.js';
import { fingerprintKeys } from '../../../core/fingerprint/keys.js';
import { parseFingerprint } from '../../../core/fingerprint/schema.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { makeCounterSuite } from '../../support/counter-suite.js';
import { runCli, testArtifacts, useWorld } from '../../support/stack.js';

/**
 * `zfslab test … --fingerprint` end to end on the native target: the chunk activity captures the real
 * test-runner's process tree with bpftrace while it runs the real scripts, stores the fingerprint beside
 * the chunk's results, and compares it with the flavor's baseline once one is set. Needs root and
 * bpftrace (infra/host-packages.txt installs it); the VM path is the same code with the guest's shell.
 */
const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0;

describe.runIf(canCapture)('zfslab test --fingerprint', () => {
  const setup = useWorld('fp-run');
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-fp-run-'));

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('captures each chunk, reports a missing baseline, then flags an exec the baseline never saw', { timeout: 600_000 }, async () => {
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 1, perGroup: 3, sleepSeconds: 0 });
    const flavorId = storeFlavorId('native', setup.world.hostId);
    const artifacts = testArtifacts(setup.world);
    try {
      // 1. No baseline yet: captured, stored, and said so.
      const first = await runCli(['test', 'native', '--runfile', suite.runfile, '--fingerprint', 'counter', '--json'], setup.world.env);
      expect(first.code, first.stderr).toBe(0);
      const one = TestRunJsonSchema.parse(JSON.parse(first.stdout));
      const [report] = one.targets[0]!.fingerprints;
      expect(report).toMatchObject({
        status: 'no-baseline',
        workload: 'counter',
        shard: 1,
        chunk: 0,
        baselineKey: fingerprintKeys.baseline(flavorId, 'counter'),
      });
      if (report?.status !== 'no-baseline') throw new Error('unreachable');
      expect(report.fingerprintKey).toBe(fingerprintKeys.run(one.runId, flavorId, 1, 0));
      const stored = parseFingerprint(JSON.parse((await artifacts.getText(report.fingerprintKey))!));
      if (!stored.ok) throw new Error(stored.issues.join('; '));
      // The tree is the runner's: its test scripts ran inside it, each exactly as often as the runner ran it.
      const binaries = new Map(stored.value.binaries_spawned.map((b) => [b.path, b.count]));
      for (const name of ['setup', 'a01_pos', 'a02_pos', 'a03_pos', 'cleanup']) {
        expect(binaries.get(join(suite.dir, 'tests', 'functional', 'counter_a', `${name}.sh`)), name).toBe(1);
      }
      expect(binaries.has('/usr/bin/uname')).toBe(false);
      expect(await artifacts.getText(fingerprintKeys.runRaw(one.runId, flavorId, 1, 0))).toMatch(/^\{"type":"zfslab","data":\{"event":"plan"/);

      // 2. That capture becomes the flavor's baseline, through the CLI.
      const baselineFile = join(scratch, 'baseline.json');
      writeFileSync(baselineFile, JSON.stringify(stored.value));
      const set = await runCli(['fingerprint', 'baseline', 'set', flavorId, 'counter', baselineFile], setup.world.env);
      expect(set.code, set.stderr).toBe(0);

      // 3. A test now also execs uname: the run still passes, and the drift is reported against the baseline.
      const a02 = join(suite.dir, 'tests', 'functional', 'counter_a', 'a02_pos.sh');
      writeFileSync(a02, `#!/bin/sh\necho counter_a/a02_pos >> ${suite.invocationsLog}\n/usr/bin/uname -r >/dev/null\nexit 0\n`);
      const second = await runCli(['test', 'native', '--runfile', suite.runfile, '--fingerprint', 'counter', '--json'], setup.world.env);
      expect(second.code, second.stderr).toBe(0);
      const two = TestRunJsonSchema.parse(JSON.parse(second.stdout));
      const [drift] = two.targets[0]!.fingerprints;
      expect(drift).toMatchObject({ status: 'compared', workload: 'counter' });
      if (drift?.status !== 'compared') throw new Error('unreachable');
      expect(drift.deviations).toBeGreaterThan(0);
      const deviations = JSON.parse((await artifacts.getText(fingerprintKeys.runDeviations(two.runId, flavorId, 1, 0)))!) as DetectionReport;
      expect(deviations.deviations).toEqual(
        expect.arrayContaining([expect.objectContaining({ category: 'binaries_spawned', key: '/usr/bin/uname', kind: 'new' })]),
      );

      // The human output says it too.
      const human = await runCli(['test', 'native', '--runfile', suite.runfile, '--fingerprint', 'counter'], setup.world.env);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/fingerprint counter: \d+ deviation\(s\) from the baseline/);
    } finally {
      artifacts.destroy();
    }
  });
});
