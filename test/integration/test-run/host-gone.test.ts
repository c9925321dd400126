import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTEMPT_MARKER } from '../../../activities/zts/chunk.js';
import { killMarked } from '../../../activities/zts/leftovers.js';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { hostTaskQueue } from '../../../core/queues.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { storeUrlOf } from '../../../lib/config.js';
import { openStore } from '../../../lib/store/open.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { runCli, startWorker, useWorld } from '../../support/stack.js';

const HOST_WAIT_SECONDS = 5;
const HEARTBEAT_TIMEOUT_SECONDS = 3;

describe('a native run whose host worker is killed and never restarted', () => {
  const setup = useWorld('hostgone', { host: false });
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-host-gone-'));

  afterAll(async () => {
    // SIGKILL leaves the dead worker's runner behind; it is not this test's subject.
    await killMarked(ATTEMPT_MARKER, setup.world.stateDir);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ends within the host bound with exit 3 naming the host, and keeps the chunks that finished', async () => {
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 4, perGroup: 10, sleepSeconds: 0.3 });
    const worker = await startWorker('host', setup.world.env);
    setup.workers.push(worker);
    const env = { ...setup.world.env, ZFSLAB_RUN_HOST_WAIT_SECONDS: String(HOST_WAIT_SECONDS) };
    const running = runCli(
      ['test', 'native', '--runfile', suite.runfile, '--chunk-size', '10', '--heartbeat-timeout', String(HEARTBEAT_TIMEOUT_SECONDS), '--json'],
      env,
    );

    // Kill the worker in the third chunk: the first two are finished and recorded by then.
    const deadline = Date.now() + 120_000;
    const testsInvoked = () => [...invocations(suite).keys()].filter((name) => !/\/(setup|cleanup)$/.test(name)).length;
    while (testsInvoked() < 24 && Date.now() < deadline) await sleep(20);
    await worker.kill9();
    const killedAt = Date.now();

    const run = await running;
    const endedAfter = (Date.now() - killedAt) / 1000;
    expect(run.code, run.stderr).toBe(3);
    // The chunk's heartbeat timeout, the retry's wait on the queue, then the bookkeeping: well under a minute.
    expect(endedAfter).toBeLessThan(HEARTBEAT_TIMEOUT_SECONDS + HOST_WAIT_SECONDS + 45);

    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.outcome).toBe('infra-error');
    expect(json.exitCode).toBe(3);
    const target = json.targets[0]!;
    const hostError = target.infraErrors.find((e) => e.includes(`host ${setup.world.hostId} is unavailable`));
    expect(hostError, target.infraErrors.join('\n')).toMatch(
      new RegExp(`^shard 1 chunk 2: .*on ${hostTaskQueue(setup.world.hostId)} within ${HOST_WAIT_SECONDS} s`),
    );
    expect(target.infraErrors).toContain('shard 1: stopped, 1 chunk(s) not run');
    expect(json.totals.tests).toBe(20);

    // What finished before the kill is in the store: the first two chunks, all PASS; the run is closed.
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = (await store.getResults(json.runId)).filter((r) => r.kind === 'test');
      expect(results.map((r) => r.testId).sort()).toEqual(suite.testIds.slice(0, 20).sort());
      expect(results.every((r) => r.outcome === 'PASS')).toBe(true);
      expect(results.every((r) => r.flavorId === storeFlavorId('native', setup.world.hostId))).toBe(true);
      expect((await store.getRun(json.runId))?.status).toBe('infra-error');
    } finally {
      await store.close();
    }
  }, 240_000);
});
