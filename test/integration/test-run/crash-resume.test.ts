import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../lib/store/open.js';
import { ATTEMPT_MARKER } from '../../../activities/zts/chunk.js';
import { processesWithMarker } from '../../../activities/zts/leftovers.js';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { storeUrlOf } from '../../../lib/config.js';
import { invocations, makeCounterSuite, type CounterSuite } from '../../support/counter-suite.js';
import { runCli, startWorker, testArtifacts, useWorld } from '../../support/stack.js';

/** Scripts that have run so far, in order (setups and cleanups included), from the scripts' own log. */
function testsInvoked(suite: CounterSuite): number {
  let n = 0;
  for (const [name, count] of invocations(suite)) if (!/\/(setup|cleanup)$/.test(name)) n += count;
  return n;
}

describe('a 40-test native run whose host worker is killed with SIGKILL halfway', () => {
  const setup = useWorld('resume', { host: false });
  const { workers } = setup;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-crash-resume-'));

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('resumes on a new worker: one final result per test, nothing finished re-run, at most one test twice', async () => {
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 4, perGroup: 10, sleepSeconds: 0.4 });
    const first = await startWorker('host', setup.world.env);
    workers.push(first);
    const running = runCli(['test', 'native', '--runfile', suite.runfile, '--json'], setup.world.env);

    // Kill the worker once about half the tests ran: the runner is in the third group, mid-chunk.
    const deadline = Date.now() + 120_000;
    while (testsInvoked(suite) < 20 && Date.now() < deadline) await sleep(20);
    await first.kill9();
    const atKill = invocations(suite);
    const invokedAtKill = [...atKill.keys()].filter((name) => !/\/(setup|cleanup)$/.test(name));
    expect(invokedAtKill.length).toBeGreaterThanOrEqual(20);
    expect(invokedAtKill.length).toBeLessThan(40);
    workers.push(await startWorker('host', setup.world.env));

    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.outcome).toBe('passed');
    expect(json.totals.tests).toBe(40);

    // Every test has exactly one final result, in the store.
    const flavorId = storeFlavorId('native', setup.world.hostId);
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = (await store.getResults(json.runId)).filter((r) => r.kind === 'test');
      expect(results.map((r) => r.testId).sort()).toEqual([...suite.testIds].sort());
      expect(results.every((r) => r.outcome === 'PASS')).toBe(true);
    } finally {
      await store.close();
    }

    // Count the scripts' own invocations: everything finished before the kill ran once; only the
    // test in flight at the kill (the last one started) may have run twice; every test ran.
    const after = invocations(suite);
    const testCounts = suite.testIds.map((id) => after.get(id.replace(/^functional\//, '')) ?? 0);
    expect(testCounts.every((n) => n >= 1)).toBe(true);
    const twice = suite.testIds.filter((id) => (after.get(id.replace(/^functional\//, '')) ?? 0) > 1);
    expect(twice.length).toBeLessThanOrEqual(1);
    expect(testCounts.every((n) => n <= 2)).toBe(true);
    const finishedAtKill = invokedAtKill.slice(0, -1);
    for (const name of finishedAtKill) expect(after.get(name), name).toBe(1);
    if (twice.length === 1) expect(twice[0]).toBe(`functional/${invokedAtKill[invokedAtKill.length - 1]}`);

    // The resumed group ran its setup again before its remaining tests (the runfile kept its pre).
    const resumedGroup = invokedAtKill[invokedAtKill.length - 1]!.split('/')[0]!;
    expect(after.get(`${resumedGroup}/setup`)).toBe(2);

    // The chunk took two attempts; the second wrote the results file, both results trees are kept.
    const artifacts = testArtifacts(setup.world);
    try {
      const chunk = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(runKeys.chunkResults(json.runId, flavorId, 1, 0)))!));
      expect(chunk.attempt).toBe(2);
      expect(chunk.resultsTrees.map((t) => t.split('/').pop())).toEqual(['attempt-1', 'attempt-2']);
    } finally {
      artifacts.destroy();
    }
    // Nothing of either attempt is still running.
    expect(processesWithMarker(ATTEMPT_MARKER, setup.world.stateDir)).toEqual([]);
  }, 240_000);
});
