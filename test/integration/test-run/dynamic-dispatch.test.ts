import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Tests finished in the chunk journals under a host's state dir (activities/zts/journal.ts). */
function journalTests(stateDir: string): number {
  const root = join(stateDir, 'zts-runs');
  if (!existsSync(root)) return 0;
  let count = 0;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.name !== 'journal.ndjson') continue;
    const lines = readFileSync(join(entry.parentPath, entry.name), 'utf8').split('\n').filter(Boolean);
    count += lines.filter((l) => l.includes('"kind":"test"')).length;
  }
  return count;
}

/**
 * Three lab hosts on this machine, each its own worker, identity and state dir, one slot each: the
 * run's chunks go longest first to whichever host frees up, and the second host's worker is killed
 * mid-chunk. The chunk goes back to the queue with what its heartbeat reported and another host
 * resumes it there.
 */
describe('zfslab test --dispatch dynamic over three hosts, one lost mid-chunk', () => {
  const setup = useWorld('dyndisp', { host: false });
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-dyn-'));
  const states = [mkdtempSync(join(tmpdir(), 'zfslab-dyn-b-')), mkdtempSync(join(tmpdir(), 'zfslab-dyn-c-'))];

  afterAll(async () => {
    for (const dir of [setup.world.stateDir, ...states]) await killMarked(ATTEMPT_MARKER, dir);
    for (const dir of [scratch, ...states]) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every test once across the hosts; the lost host goes unknown and its chunk resumes elsewhere', async () => {
    const a = setup.world.hostId;
    const [b, c] = [`${a.slice(0, 50)}-b`, `${a.slice(0, 50)}-c`];
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 4, perGroup: 10, sleepSeconds: 0.8 });
    setup.workers.push(await startWorker('host', setup.world.env));
    const lost = await startWorker('host', { ...setup.world.env, ZFSLAB_HOST_ID: b, ZFSLAB_STATE_DIR: states[0] });
    setup.workers.push(lost);
    setup.workers.push(await startWorker('host', { ...setup.world.env, ZFSLAB_HOST_ID: c, ZFSLAB_STATE_DIR: states[1] }));
    // The fleet's registry knows its hosts (a probe registers them): b's loss is recorded there.
    const registry = await openStore(storeUrlOf(setup.world.loaded));
    try {
      for (const id of [b, c]) await new HostRegistry(registry.db).ensure(id, new Date().toISOString());
    } finally {
      await registry.close();
    }
    const started = Date.now();
    const running = runCli(
      [
        'test',
        'native',
        '--runfile',
        suite.runfile,
        '--chunk-size',
        '10',
        '--heartbeat-timeout',
        '3',
        '--dispatch',
        'dynamic',
        '--slots',
        `${a}:1,${b}:1,${c}:1`,
        '--json',
      ],
      setup.world.env,
    );
    // Kill b once it has finished five tests of the chunk it holds: 4 s in, past the heartbeat throttle
    // (0.8 × the 3 s timeout), so its heartbeat has carried finished tests to the server.
    const deadline = Date.now() + 180_000;
    while (journalTests(states[0]!) < 5 && Date.now() < deadline) await sleep(20);
    await lost.kill9();
    await killMarked(ATTEMPT_MARKER, states[0]!);
    const finishedOnB = journalTests(states[0]!);

    const run = await running;
    const seconds = (Date.now() - started) / 1000;
    expect(run.code, `${run.stderr.slice(-3000)}\n${run.stdout.slice(0, 4000)}`).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.outcome).toBe('passed');
    expect(json.totals.tests).toBe(40);
    const moves = json.targets[0]!.hostMoves;
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ from: b, why: 'its heartbeat stopped' });
    expect([a, c]).toContain(moves[0]!.to);
    expect(moves[0]!.resumedAfter).toBeGreaterThanOrEqual(1);
    process.stderr.write(`dynamic-dispatch: 40 tests on 3 hosts, one lost: ${seconds.toFixed(1)} s; moved ${JSON.stringify(moves[0])}\n`);

    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = (await store.getResults(json.runId)).filter((r) => r.kind === 'test');
      expect(results.map((r) => r.testId).sort()).toEqual([...suite.testIds].sort());
      expect((await new HostRegistry(store.db).get(b))?.health.state).toBe('unknown');
    } finally {
      await store.close();
    }
    // What the lost host's heartbeat reported was not run again.
    const after = invocations(suite);
    expect(json.targets[0]!.counts.PASS).toBe(40);
    for (const id of suite.testIds) expect(after.get(id.replace(/^functional\//, '')) ?? 0, id).toBeGreaterThanOrEqual(1);
    const twice = suite.testIds.filter((id) => (after.get(id.replace(/^functional\//, '')) ?? 0) > 1);
    // Run again: only the test in flight when b died, and those b finished after its last heartbeat
    // got through (its journal died with it; the heartbeat is what the next holder resumes from).
    expect(twice.length).toBeLessThanOrEqual(finishedOnB - moves[0]!.resumedAfter + 1);
  }, 300_000);
});
