import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCloneDir } from '../../../activities/golden/paths.js';
import { readCloneLabel } from '../../../activities/vm/qcow2-storage.js';
import { livePidFromFile } from '../../../activities/vm/qemu-hypervisor.js';
import { openStore } from '../../../lib/store/open.js';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { parseFingerprint } from '../../../core/fingerprint/schema.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { storeUrlOf } from '../../../lib/config.js';
import { runCli, startWorker, testArtifacts, useWorld } from '../../support/stack.js';

/**
 * `zfslab test debian13 --run <one ZTS test>` end to end on real qemu: the real CLI, coordinator and
 * host workers, Temporal and MinIO; the host worker's VM target provider clones the cached debian13
 * ztest golden (build it first: `zfslab golden-ztest debian13`), boots it, runs zfs-tests.sh as the test
 * user and destroys the clone. ZFSLAB_SLOW=1 only: a TCG boot alone takes 1-3 minutes.
 */
const TEST = 'functional/cli_root/zpool_create/zpool_create_001_pos';
const GROUP = 'functional/cli_root/zpool_create';

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('zfslab test debian13 in a VM clone', () => {
  const setup = useWorld('vm-run');
  const { workers } = setup;

  it('runs the test for real: PASS with its group setup/cleanup, stored, artifacts uploaded, clone gone', async () => {
    const started = performance.now();
    const run = await runCli(['test', 'debian13', '--run', TEST, '--fingerprint', 'zpool-create-001', '--json'], setup.world.env, { timeoutMs: 1_500_000 });
    const wallSeconds = Math.round((performance.now() - started) / 1000);
    console.log(`zfslab test debian13 --run ${TEST}: ${wallSeconds} s wall`); // eslint-disable-line no-console
    expect(run.code, `${run.stderr}\n--- host worker ---\n${workers[1]?.output().slice(-4000)}`).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    const flavorId = storeFlavorId('debian13', setup.world.hostId);
    expect(json.outcome).toBe('passed');
    expect(json.totals.counts.PASS).toBe(1);
    expect(json.totals.tests).toBe(1);
    // --fingerprint: captured in the guest (bpftrace as root over the clone's SSH, following zfs-tests.sh).
    const [fingerprint] = json.targets[0]!.fingerprints;
    expect(fingerprint, JSON.stringify(fingerprint)).toMatchObject({ status: 'no-baseline', workload: 'zpool-create-001' });

    // The store: the test PASSed, and so did its group's setup and cleanup (they really ran in the guest).
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = await store.getResults(json.runId);
      const byKind = (kind: string) => results.filter((r) => r.kind === kind);
      expect(byKind('test').map((r) => [r.testId, r.outcome, r.flavorId])).toEqual([[TEST, 'PASS', flavorId]]);
      expect(byKind('setup').map((r) => [r.group, r.outcome])).toEqual([[GROUP, 'PASS']]);
      expect(byKind('cleanup').map((r) => [r.group, r.outcome])).toEqual([[GROUP, 'PASS']]);
      expect(byKind('test')[0]!.durationSeconds).toBeGreaterThan(0);
      expect((await store.getRun(json.runId))?.status).toBe('passed');
    } finally {
      await store.close();
    }

    // MinIO: the guest's results tree (copied back), the serial log of the clone, the chunk's results.
    const artifacts = testArtifacts(setup.world);
    let cloneIds: string[];
    try {
      const keys = (await artifacts.list(`runs/${json.runId}/${flavorId}/1/`)).map((o) => o.key);
      // Usually attempt 1; a chunk retried (a heartbeat missed on a loaded host) has a later attempt's tree.
      expect(
        keys.some((k) => /\/attempt-\d+\/\d{8}T\d{6}\/log$/.test(k)),
        keys.join('\n'),
      ).toBe(true);
      expect(keys.some((k) => /\/attempt-\d+\/\d{8}T\d{6}\/results$/.test(k))).toBe(true);
      expect(keys.some((k) => /\/attempt-\d+\//.test(k) && k.endsWith('/zpool_create_001_pos/stdout'))).toBe(true);
      cloneIds = keys.flatMap((k) => /\/serial-(c-[0-9a-f]+)\.log$/.exec(k)?.[1] ?? []);
      expect(cloneIds.length).toBeGreaterThanOrEqual(1);
      if (fingerprint?.status === 'no-baseline') {
        const fp = parseFingerprint(JSON.parse((await artifacts.getText(fingerprint.fingerprintKey))!));
        if (!fp.ok) throw new Error(fp.issues.join('; '));
        const spawned = fp.value.binaries_spawned.map((b) => b.path);
        // The runner execs the installed scripts by their file names (`.ksh`).
        const group = '/usr/share/zfs/zfs-tests/tests/functional/cli_root/zpool_create';
        expect(spawned, spawned.join('\n')).toContain(`${group}/zpool_create_001_pos.ksh`);
        expect(spawned).toContain(`${group}/setup.ksh`);
        expect(Object.values(fp.value.ioctl_codes).map((i) => i.name)).toContain('ZFS_IOC_POOL_CREATE');
      }
      const chunk = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(runKeys.chunkResults(json.runId, flavorId, 1, 0)))!));
      expect(chunk.results.find((r) => r.kind === 'test')?.outcome).toBe('PASS');
    } finally {
      artifacts.destroy();
    }

    // Nothing of the run's clone is left: no qemu process, no clone dir, no clone labelled with the run.
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    for (const cloneId of cloneIds) {
      expect(processes).not.toContain(`zfslab-${cloneId}`);
      expect(existsSync(join(defaultCloneDir(), cloneId))).toBe(false);
    }
    const cloneRoot = defaultCloneDir();
    const labelled = existsSync(cloneRoot)
      ? readdirSync(cloneRoot).filter((d) => {
          const label = join(cloneRoot, d, 'label.json');
          return existsSync(label) && readFileSync(label, 'utf8').includes(json.runId);
        })
      : [];
    expect(labelled).toEqual([]);
  }, 1_800_000);

  it('survives kill -9 of the host worker while its VM runs: the new worker sweeps the orphan clone and the run goes on', async () => {
    const tests = ['zpool_001_neg', 'zpool_002_pos', 'zpool_003_pos'].map((t) => `functional/cli_root/zpool/${t}`);
    const cloneRoot = defaultCloneDir();
    const oldHost = workers[1]!;
    const cli = runCli(['test', 'debian13', '--group', tests.join(','), '--heartbeat-timeout', '60', '--json'], setup.world.env, { timeoutMs: 2_400_000 });

    // The first clone: made by this host worker (its label names the worker as owner), booted, running tests.
    const ownClone = (): { cloneId: string; runId: string } | undefined => {
      for (const cloneId of existsSync(cloneRoot) ? readdirSync(cloneRoot) : []) {
        const label = readCloneLabel(join(cloneRoot, cloneId));
        if (label?.owner?.pid === oldHost.pid) return { cloneId, runId: label.runId };
      }
      return undefined;
    };
    const first = await waitFor(ownClone, 600_000, 'a clone of the host worker');
    const dir = join(cloneRoot, first.cloneId);
    await waitFor(() => (readFileIfExists(join(dir, 'serial.log')).includes('login:') ? true : undefined), 900_000, 'the clone to boot');
    // Give zfs-tests.sh time to get going in the guest, then kill the worker that owns the VM.
    await new Promise((r) => setTimeout(r, 45_000));
    const qemuPid = livePidFromFile(join(dir, 'qemu.pid'));
    expect(qemuPid, 'qemu runs before the kill').toBeDefined();
    await oldHost.kill9();
    // Nothing else would ever stop this VM: it outlives its worker.
    expect(livePidFromFile(join(dir, 'qemu.pid'))).toBe(qemuPid);

    const newHost = await startWorker('host', setup.world.env);
    workers[1] = newHost;
    // The new worker's sweep at start destroys it (its owner is gone, although its run is still open).
    await waitFor(() => (existsSync(dir) ? undefined : true), 120_000, 'the orphan clone to be swept');
    expect(processAlive(qemuPid!)).toBe(false);
    expect(newHost.output()).toMatch(new RegExp(`"cloneId":"${first.cloneId}".*"reason":"owner-gone".*orphan clone destroyed`));

    // The run goes on in a fresh clone and finishes with one result per test.
    const run = await cli;
    expect(run.code, `${run.stderr}\n--- host worker ---\n${newHost.output().slice(-4000)}`).not.toBe(3);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.runId).toBe(first.runId);
    expect(['passed', 'failed']).toContain(json.outcome);
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = (await store.getResults(json.runId)).filter((r) => r.kind === 'test');
      expect(results.map((r) => r.testId).sort()).toEqual([...tests].sort());
    } finally {
      await store.close();
    }
    const artifacts = testArtifacts(setup.world);
    try {
      const keys = (await artifacts.list(`runs/${json.runId}/`)).map((o) => o.key);
      // A later attempt, in another clone, did the work.
      expect(
        keys.some((k) => /\/attempt-[2-9]\/\d{8}T\d{6}\/log$/.test(k)),
        keys.join('\n'),
      ).toBe(true);
    } finally {
      artifacts.destroy();
    }
    const left = readdirSync(cloneRoot).filter((d) => readCloneLabel(join(cloneRoot, d))?.runId === json.runId);
    expect(left).toEqual([]);
  }, 2_700_000);
});

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('zfslab test debian13 --recipe', () => {
  const setup = useWorld('vm-recipe');
  const { workers } = setup;

  it('runs the script as root in a fresh clone: PASS by exit code, output in MinIO', async () => {
    const recipe = join(setup.world.stateDir, 'mirror-scrub.sh');
    writeFileSync(
      recipe,
      [
        '#!/bin/bash',
        'set -euo pipefail',
        'read -r d1 d2 _ <<<"$DISKS"',
        'zpool create -f recipepool mirror /dev/$d1 /dev/$d2',
        'dd if=/dev/urandom of=/recipepool/data bs=1M count=16 status=none',
        'zpool scrub -w recipepool',
        'zpool status -x recipepool | grep -q "is healthy"',
        'zpool destroy recipepool',
        'echo "recipe-ok on $(uname -r)"',
        '',
      ].join('\n'),
    );
    const run = await runCli(['test', 'debian13', '--recipe', recipe, '--json'], setup.world.env, { timeoutMs: 1_500_000 });
    expect(run.code, `${run.stderr}\n--- host worker ---\n${workers[1]?.output().slice(-4000)}`).toBe(0);
    const json = JSON.parse(run.stdout) as {
      runId: string;
      outcome: string;
      results: { outcome: string; exitCode: number; outputUri: string; testId: string }[];
    };
    expect(json.outcome).toBe('passed');
    const result = json.results[0]!;
    expect(result).toMatchObject({ outcome: 'PASS', exitCode: 0 });
    // The recipe is a result in the store like a ZTS test: `zfslab show` and `history` see it.
    const shown = await runCli(['show', json.runId, '--json'], setup.world.env);
    expect(JSON.parse(shown.stdout).flavors[0]).toMatchObject({ id: 'debian13', tests: 1, pass: 1 });
    const history = await runCli(['history', result.testId, '--json'], setup.world.env);
    expect(JSON.parse(history.stdout).flavors[0]).toMatchObject({ flavorId: 'debian13', lastOutcome: 'PASS' });
    const artifacts = testArtifacts(setup.world);
    try {
      const key = result.outputUri.replace(/^s3:\/\/[^/]+\//, '');
      expect(await artifacts.getText(key)).toMatch(/recipe-ok on 6\.12\./);
    } finally {
      artifacts.destroy();
    }
  }, 1_800_000);
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function readFileIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Running, not a zombie: a killed qemu whose parent (the killed worker) is gone waits for init to reap it. */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
