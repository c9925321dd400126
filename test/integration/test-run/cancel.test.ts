import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../lib/store/open.js';
import { ATTEMPT_MARKER } from '../../../activities/zts/chunk.js';
import { processesWithMarker } from '../../../activities/zts/leftovers.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { runWorkflowId, storeFlavorId } from '../../../core/test-run/ids.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { storeUrlOf } from '../../../lib/config.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { connectTestClient, runCli, testArtifacts, useWorld, type TestWorld } from '../../support/stack.js';

/** Live processes whose command line mentions `text` (the suite's scripts run as `/bin/sh <path>`). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(text) && !readFileSync(`/proc/${entry}/stat`, 'utf8').includes(') Z ')) found.push(`${entry} ${cmdline}`);
    } catch {
      // gone
    }
  }
  return found;
}

describe('cancelling a native run mid-way', () => {
  const setup = useWorld('cancel');
  let client: Client;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-cancel-'));

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('keeps the partial results in the store and leaves no runner process alive', async () => {
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 4, perGroup: 10, sleepSeconds: 0.4 });
    const running = runCli(['test', 'native', '--runfile', suite.runfile, '--chunk-size', '15'], setup.world.env);

    let runId: string | undefined;
    const deadline = Date.now() + 120_000;
    while ((runId === undefined || invocations(suite).size < 14) && Date.now() < deadline) {
      runId ??= await newestRunId(setup.world);
      await sleep(50);
    }
    expect(runId).toBeDefined();
    expect(processesWithMarker(ATTEMPT_MARKER, setup.world.stateDir).length).toBeGreaterThan(0);
    await client.workflow.getHandle(runWorkflowId(runId!)).cancel();

    const run = await running;
    // Cancelled with nothing failing: no verdict, the infrastructure exit code.
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/run r\S+: cancelled/);

    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      expect((await store.getRun(runId!))?.status).toBe('cancelled');
      const tests = (await store.getResults(runId!)).filter((r) => r.kind === 'test');
      expect(tests.length).toBeGreaterThanOrEqual(10);
      expect(tests.length).toBeLessThan(40);
      expect(tests.every((r) => r.outcome === 'PASS')).toBe(true);
    } finally {
      await store.close();
    }

    // The chunk that was running says so and kept what finished.
    const flavorId = storeFlavorId('native', setup.world.hostId);
    const artifacts = testArtifacts(setup.world);
    try {
      const files = [];
      for (const chunk of [0, 1, 2, 3]) {
        const text = await artifacts.getText(runKeys.chunkResults(runId!, flavorId, 1, chunk));
        if (text) files.push(ChunkResultsFileSchema.parse(JSON.parse(text)));
      }
      const cancelled = files.filter((f) => f.cancelled);
      expect(cancelled).toHaveLength(1);
      expect(cancelled[0]!.testsLeft.length).toBeGreaterThan(0);
    } finally {
      artifacts.destroy();
    }

    // No runner, sudo or test script of the run is left.
    expect(processesWithMarker(ATTEMPT_MARKER, setup.world.stateDir)).toEqual([]);
    expect(processesMentioning(suite.dir)).toEqual([]);
    // And nothing ran after the cancel: the log stops growing.
    const settled = invocations(suite);
    await sleep(1_500);
    expect(invocations(suite)).toEqual(settled);
  }, 240_000);
});

async function newestRunId(world: TestWorld): Promise<string | undefined> {
  const store = await openStore(storeUrlOf(world.loaded));
  try {
    return (await store.listRuns({ limit: 1 }))[0]?.id;
  } finally {
    await store.close();
  }
}
