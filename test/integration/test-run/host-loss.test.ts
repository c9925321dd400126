import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTEMPT_MARKER } from '../../../activities/zts/chunk.js';
import { killMarked } from '../../../activities/zts/leftovers.js';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { storeUrlOf } from '../../../lib/config.js';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { runCli, startWorker, useWorld } from '../../support/stack.js';

const HEARTBEAT_TIMEOUT_SECONDS = 3;

/**
 * Two lab hosts on this machine, each its own worker, identity and state dir (so the standby host has
 * no journal of the lost host's chunk: only the heartbeat checkpoint on the server carries it over).
 */
describe("a native run whose host's worker is killed mid-chunk, with a standby host", () => {
  const setup = useWorld('hostloss', { host: false });
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-host-loss-'));
  const standbyState = mkdtempSync(join(tmpdir(), 'zfslab-host-loss-b-'));

  afterAll(async () => {
    await killMarked(ATTEMPT_MARKER, setup.world.stateDir);
    rmSync(scratch, { recursive: true, force: true });
    rmSync(standbyState, { recursive: true, force: true });
  });

  it('moves the chunk to the standby host after the heartbeat timeout, resumes it at the test it was on, and marks the lost host unknown', async () => {
    const standbyId = `${setup.world.hostId.slice(0, 50)}-b`;
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 4, perGroup: 10, sleepSeconds: 0.8 });
    const lost = await startWorker('host', setup.world.env);
    setup.workers.push(lost);
    setup.workers.push(await startWorker('host', { ...setup.world.env, ZFSLAB_HOST_ID: standbyId, ZFSLAB_STATE_DIR: standbyState }));
    const running = runCli(
      [
        'test',
        'native',
        '--runfile',
        suite.runfile,
        '--chunk-size',
        '10',
        '--heartbeat-timeout',
        String(HEARTBEAT_TIMEOUT_SECONDS),
        '--standby',
        standbyId,
        '--json',
      ],
      setup.world.env,
    );

    // Kill the first host's worker late in the third chunk (tests 21-30): seven of its tests are done.
    const deadline = Date.now() + 180_000;
    const testsInvoked = () => [...invocations(suite).keys()].filter((name) => !/\/(setup|cleanup)$/.test(name));
    while (testsInvoked().length < 28 && Date.now() < deadline) await sleep(20);
    await lost.kill9();
    // SIGKILL leaves the lost worker's runner going (a real lost machine takes it along): stop it, so it
    // cannot finish tests behind the standby host's back.
    await killMarked(ATTEMPT_MARKER, setup.world.stateDir);
    const invokedAtKill = testsInvoked();
    const killedAt = Date.now();

    const run = await running;
    expect(run.code, `${run.stderr.slice(-3000)}\n${run.stdout.slice(0, 4000)}`).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.outcome).toBe('passed');
    expect(json.totals.tests).toBe(40);
    const target = json.targets[0]!;
    expect(target.hostMoves).toHaveLength(1);
    const move = target.hostMoves[0]!;
    expect(move).toMatchObject({ from: setup.world.hostId, to: standbyId, shard: 1, chunk: 2, why: 'its heartbeat stopped' });
    // The checkpoint came across: the standby host did not start the chunk over.
    expect(move.resumedAfter).toBeGreaterThanOrEqual(3);
    expect(run.stdout.length).toBeGreaterThan(0);
    expect((Date.now() - killedAt) / 1000).toBeLessThan(120);

    // One final result per test in the store.
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = (await store.getResults(json.runId)).filter((r) => r.kind === 'test');
      expect(results.map((r) => r.testId).sort()).toEqual([...suite.testIds].sort());
      expect(results.every((r) => r.outcome === 'PASS')).toBe(true);
      const registry = new HostRegistry(store.db);
      expect((await registry.get(setup.world.hostId))?.health.state).toBe('unknown');
    } finally {
      await store.close();
    }

    // Nothing the checkpoint held ran again; the tests after it did, on the standby host.
    const after = invocations(suite);
    const chunkTests = suite.testIds.slice(20, 30).map((id) => id.replace(/^functional\//, ''));
    for (const name of chunkTests.slice(0, move.resumedAfter)) expect(after.get(name), name).toBe(1);
    for (const id of suite.testIds) expect(after.get(id.replace(/^functional\//, '')) ?? 0, id).toBeGreaterThanOrEqual(1);
    expect(invokedAtKill.length).toBeLessThan(40);
  }, 300_000);
});
